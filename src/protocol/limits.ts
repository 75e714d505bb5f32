/**
 * Bounds of the wire protocol, enforced by the codec on both sides. Without them one field of one
 * frame (a 1 MB `race` token) is memory the server keeps for a session's life (issue 16, item 7).
 * docs/protocol.md §1 lists them; a peer that exceeds one breaks the protocol.
 */
export const LIMITS = {
  /** `sid`, `key`, `race`: ids and secrets are ~40 characters; 128 leaves room for other servers. */
  id: 128,
  /** `ev`: an application message type. */
  type: 256,
  /** `e`: a payload encoding name (`b64`). */
  encoding: 16,
  /** `code` of an `error` frame. */
  code: 64,
  /** `message` of an `error` frame. */
  message: 1024,
  /** `reason` of a `bye`, in UTF-8 bytes: what a WebSocket close frame can carry (RFC 6455 §5.5). */
  reason: 123,
  /** A whole `hello` (with its `auth`), as JSON. */
  hello: 16 * 1024,
  /** Entries of a greeting's version list. */
  versions: 16,
} as const;

/** One encoder for the protocol layer (limits here, binary WebSocket headers in binary.ts). */
export const encoder = new TextEncoder();

/** UTF-8 byte length of `s`. */
export function utf8Bytes(s: string): number {
  return encoder.encode(s).length;
}

/**
 * Cuts `s` to at most `max` bytes of UTF-8 without splitting a character. `ws` throws on a close
 * reason over 123 bytes, and 120 *characters* of CJK text are 360 bytes (issue 16, item 1).
 */
export function cutUtf8(s: string, max: number = LIMITS.reason): string {
  if (s.length * 3 <= max || utf8Bytes(s) <= max) return s;
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
