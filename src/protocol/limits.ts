/**
 * Bounds of the wire protocol, enforced by the codec on both sides. Without them one field of one
 * frame (a 1 MB `race` token) is memory the server keeps for a session's life (issue 16, item 7).
 * docs/protocol.md §1 lists them; a peer that exceeds one breaks the protocol.
 */
// One constant per bound, which the minifier writes as a number where it is used (the keys of an
// object would stay in the client's bundle); `LIMITS` gathers them for the server and the tests.
/** `sid`, `key`, `race`: ids and secrets are ~40 characters; 128 leaves room for other servers. */
export const ID = 128;
/** `ev`: an application message type. */
export const TYPE = 256;
/** `e`: a payload encoding name (`b64`). */
export const ENCODING = 16;
/** `code` of an `error` frame. */
export const CODE = 64;
/** `message` of an `error` frame. */
export const MESSAGE = 1024;
/** `reason` of a `bye`, in UTF-8 bytes: what a WebSocket close frame can carry (RFC 6455 §5.5). */
export const REASON = 123;
/** Entries of a greeting's version list. */
export const VERSIONS = 16;

export const LIMITS = {
  id: ID,
  type: TYPE,
  encoding: ENCODING,
  code: CODE,
  message: MESSAGE,
  reason: REASON,
  /** A whole `hello` (with its `auth`), as JSON. */
  hello: 16 * 1024,
  versions: VERSIONS,
} as const;

/** One encoder for the protocol layer (limits here, binary WebSocket headers in binary.ts). */
export const encoder = new TextEncoder();

/** Where `utf8Length` encodes, to count. */
const scratch = new Uint8Array(4096);

/**
 * UTF-8 length of a string as it goes on the wire (a lone surrogate as U+FFFD), without
 * allocating a copy of it: encoded natively into a scratch buffer, 4 KiB at a time. For a fresh
 * 100-byte message that is half the time of the regex scan it replaced (0.2 µs, paid per send).
 */
export function utf8Length(s: string): number {
  let n = 0;
  for (let at = 0; at < s.length; ) {
    // It stops before a character that does not fit, never inside one.
    const r = encoder.encodeInto(at ? s.slice(at) : s, scratch);
    n += r.written;
    at += r.read;
  }
  return n;
}

/**
 * Cuts `s` to at most `max` bytes of UTF-8 without splitting a character. `ws` throws on a close
 * reason over 123 bytes, and 120 *characters* of CJK text are 360 bytes (issue 16, item 1).
 */
export function cutUtf8(s: string, max: number = LIMITS.reason): string {
  if (s.length * 3 <= max || utf8Length(s) <= max) return s;
  let bytes = 0;
  let end = 0;
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    const n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    if (bytes + n > max) break;
    bytes += n;
    end += ch.length;
  }
  return s.slice(0, end);
}
