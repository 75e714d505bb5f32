import type { Frame } from './frames';
import { LIMITS, utf8Bytes } from './limits';

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

const isNum = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) >= 0;
/** A string of at most `max` UTF-16 units: every string field is bounded (docs/protocol.md §1). */
const str = (max: number) => (x: unknown): x is string => typeof x === 'string' && x.length <= max;
const isId = str(LIMITS.id);
const opt = (x: unknown, test: (x: unknown) => boolean) => x === undefined || test(x);
/** The whole hello, `auth` included, once: hellos are rare, and `auth` is any JSON. */
const helloFits = (f: Record<string, unknown>) => {
  try {
    return JSON.stringify(f).length <= LIMITS.hello;
  } catch {
    return false;
  }
};

// Field checks per frame type; each returns true when the frame is well formed.
const checks: Record<Frame['t'], (f: Record<string, unknown>) => boolean> = {
  greet: (f) => Array.isArray(f.v) && f.v.length <= LIMITS.versions && f.v.every(isNum),
  hello: (f) =>
    isNum(f.v) && opt(f.sid, isId) && opt(f.key, isId) && opt(f.ack, isNum) && opt(f.race, isId) && helloFits(f),
  welcome: (f) =>
    isNum(f.v) && isId(f.sid) && isId(f.key) && isNum(f.hb) && isNum(f.ack) &&
    typeof f.resumed === 'boolean' && isNum(f.max),
  ping: (f) => opt(f.n, isNum),
  pong: (f) => opt(f.n, isNum),
  msg: (f) => isNum(f.s) && f.s > 0 && str(LIMITS.type)(f.ev) && f.ev.length > 0 && opt(f.e, str(LIMITS.encoding)) && opt(f.a, isNum),
  ack: (f) => isNum(f.a),
  error: (f) => str(LIMITS.code)(f.code) && str(LIMITS.message)(f.message) && opt(f.status, isNum),
  // The entries are read by the server (src/server/attempt-report.ts): bounded there, where a
  // bad one costs the report, not the link. The client only ever sends this frame.
  report: (f) => Array.isArray(f.a),
  bye: (f) => isNum(f.code) && opt(f.reason, (r) => typeof r === 'string' && r.length <= LIMITS.reason && utf8Bytes(r) <= LIMITS.reason),
};

/** Decodes one transport message into frames; throws `DecodeError` when it is malformed. */
export function decode(text: string): Frame[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new DecodeError('not JSON');
  }
  const list = Array.isArray(parsed) ? parsed : [parsed];
  for (const f of list) {
    if (typeof f !== 'object' || f === null) throw new DecodeError('frame is not an object');
    const t = (f as { t?: unknown }).t;
    // hasOwn: a frame typed "constructor" or "__proto__" must not reach Object.prototype.
    if (typeof t !== 'string' || !Object.prototype.hasOwnProperty.call(checks, t)) {
      throw new DecodeError(`unknown frame type ${JSON.stringify(t)}`);
    }
    if (!checks[t as Frame['t']](f as Record<string, unknown>)) throw new DecodeError(`malformed ${t} frame`);
  }
  return list as Frame[];
}
