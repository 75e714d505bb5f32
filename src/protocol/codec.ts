import { DEV } from '../dev';
import { PROTOCOL_VERSION, type Frame } from './frames';
import { CODE, ENCODING, ID, MESSAGE, REASON, TYPE, utf8Length, VERSIONS } from './limits';

/**
 * Encodes and decodes transport messages: one frame, or an array of frames. Decoding validates
 * every frame: a v1 peer never sends an unknown frame type, so one is a protocol error rather
 * than something to skip (unknown *fields* are ignored, which is how v1 grows).
 */

export function encode(frames: readonly Frame[]): string {
  return JSON.stringify(frames.length === 1 ? frames[0] : frames);
}

/** What the decoder says when a message breaks the protocol. */
export class DecodeError extends Error {
  override name = 'DecodeError';
}

/** Field checks per frame type; each returns true when the frame is well formed. */
export type FrameChecks = { [T in Frame['t']]?: (f: Record<string, unknown>) => boolean };

export const isNum = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) >= 0;
/** A positive integer: a message's number, a call's id. */
export const isPos = (x: unknown): x is number => isNum(x) && x > 0;
/** A string of at most `max` UTF-16 units: every string field is bounded (docs/protocol.md §1). */
export const str = (x: unknown, max: number): x is string => typeof x == 'string' && x.length <= max;
export const isId = (x: unknown): x is string => str(x, ID);
const optNum = (x: unknown) => x === undefined || isNum(x);
const n = (f: Record<string, unknown>) => optNum(f.n);

/**
 * The frames a client reads, and so the only ones its decoder takes (a server never sends a
 * `hello` or a `report`). The server's decoder adds those (src/server/codec.ts).
 */
export const clientChecks: FrameChecks = {
  greet: (f) => Array.isArray(f.v) && f.v.length <= VERSIONS && f.v.every(isNum),
  // The welcome echoes the version the hello chose (§3): a client offers only PROTOCOL_VERSION.
  welcome: (f) => isId(f.sid) && isId(f.key) && isNum(f.hb) && isNum(f.ack) && typeof f.resumed == 'boolean' && isPos(f.max) && f.v === PROTOCOL_VERSION,
  ping: n,
  pong: n,
  msg: (f) => isPos(f.s) && str(f.ev, TYPE) && !!f.ev /* not empty */ && (f.e === undefined || str(f.e, ENCODING)) && optNum(f.a),
  ack: (f) => isNum(f.a),
  error: (f) => str(f.code, CODE) && str(f.message, MESSAGE) && optNum(f.status),
  bye: (f) => isNum(f.code) && (f.reason === undefined || (str(f.reason, REASON) && utf8Length(f.reason) <= REASON)),
};

/**
 * Decodes one transport message into frames of the types `checks` knows (by default those a
 * client reads); throws `DecodeError` when it is malformed.
 */
export function decode(text: string, checks: FrameChecks = clientChecks): Frame[] {
  let list;
  try {
    list = JSON.parse(text);
  } catch {
    throw new DecodeError(DEV ? 'not JSON' : '');
  }
  if (!Array.isArray(list)) list = [list];
  for (const f of list) {
    // Not an object (null, a number, a string): no `t`. hasOwn: a frame typed "constructor" or
    // "__proto__" must not reach Object.prototype.
    const t = f?.t;
    if (typeof t != 'string' || !Object.hasOwn(checks, t) || !checks[t as Frame['t']]!(f)) {
      throw new DecodeError(DEV ? (Object.hasOwn(checks, t) ? `malformed ${t} frame` : `unknown frame type ${JSON.stringify(t)}`) : '');
    }
  }
  return list;
}
