import { decodeBinary as decodeBinaryWith } from '../protocol/binary';
import { clientChecks, decode as decodeWith, isId, isNum, isPos, str, type FrameChecks } from '../protocol/codec';
import { encodeFrame as clientFrames } from '../protocol/encode';
import type { ByeFrame, ErrorFrame, Frame, WelcomeFrame } from '../protocol/frames';
import { PROTOCOL_VERSIONS } from '../protocol/frames';
import { cutUtf8, LIMITS, TYPE } from '../protocol/limits';
import type { WireErrorCode } from '../protocol/wire-errors';

/**
 * The server's side of the codec (src/protocol/codec.ts, encode.ts): the frames only a server
 * reads (`hello`, `report`) or writes (`greet`, `welcome`, `error`, a `bye` with a reason). They
 * live here so that the client's bundle does not carry code it never runs.
 */

/** Every typed encoder (src/protocol/encode.ts), with those of the frames only a server writes. */
export const encodeFrame = {
  ...clientFrames,
  greet: (): string => `{"t":"greet","v":${JSON.stringify(PROTOCOL_VERSIONS)}}`,
  welcome: (f: Omit<WelcomeFrame, 't'>): string => JSON.stringify({ t: 'welcome', ...f }),
  /** The reason is cut to the codec's bound, as a WebSocket close reason is. */
  bye: (code: ByeFrame['code'], reason?: string): string =>
    JSON.stringify({ t: 'bye', code, reason: reason === undefined ? undefined : cutUtf8(reason) }),
  /**
   * A fatal error precedes the end of the connection; a non-fatal one is information. The message
   * may quote the app (an `authenticate` refusal) or the peer, so it is cut to the codec's bound.
   */
  error: (code: WireErrorCode, message: string, status?: number, fatal = true): string =>
    JSON.stringify({ t: 'error', code, message: cutUtf8(message, LIMITS.message), status, fatal } satisfies ErrorFrame),
};

const opt = (x: unknown, test: (x: unknown) => boolean) => x === undefined || test(x);
/** The whole hello, `auth` included, once: hellos are rare, and `auth` is any JSON. */
const helloFits = (f: Record<string, unknown>) => {
  try {
    return JSON.stringify(f).length <= LIMITS.hello;
  } catch {
    return false;
  }
};

export const serverChecks: FrameChecks = {
  ...clientChecks,
  hello: (f) => isNum(f.v) && opt(f.sid, isId) && opt(f.key, isId) && opt(f.ack, isNum) && opt(f.race, isId) && helloFits(f),
  // The entries are read by src/server/attempt-report.ts: bounded there, where a bad one costs
  // the report, not the link.
  report: (f) => Array.isArray(f.a),
  // A run is messages s, s+1, …: each needs a number, so an empty one is malformed (§1.4).
  run: (f) => isPos(f.s) && str(f.ev, TYPE) && !!f.ev && Array.isArray(f.d) && f.d.length > 0 && opt(f.a, isNum),
};

/** Decodes a text message from a client; throws `DecodeError` when it is malformed. */
export const decode = (text: string): Frame[] => decodeWith(text, serverChecks);
/** Decodes a binary WebSocket message from a client (§1.3); throws `DecodeError` when it is malformed. */
export const decodeBinary = (data: Uint8Array): Frame[] => decodeBinaryWith(data, serverChecks);
