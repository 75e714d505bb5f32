import { decodeBinary as decodeBinaryWith } from '../protocol/binary';
import { clientChecks, decode as decodeWith, isId, isNum, type FrameChecks } from '../protocol/codec';
import type { Frame } from '../protocol/frames';
import { LIMITS } from '../protocol/limits';

/**
 * The server's decoder: the frames a client reads (src/protocol/codec.ts) and those only a
 * server reads, `hello` and `report`. Their checks live here so that the client's bundle does not
 * carry validators it never runs.
 */
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
};

/** Decodes a text message from a client; throws `DecodeError` when it is malformed. */
export const decode = (text: string): Frame[] => decodeWith(text, serverChecks);
/** Decodes a binary WebSocket message from a client (§1.3); throws `DecodeError` when it is malformed. */
export const decodeBinary = (data: Uint8Array): Frame[] => decodeBinaryWith(data, serverChecks);
