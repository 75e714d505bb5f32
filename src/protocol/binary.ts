import { fromBase64 } from './base64';
import { batch } from './encode';
import { decode, DecodeError } from './codec';
import { RAW, resolveRaw } from './data';
import type { Frame } from './frames';

/**
 * Binary WebSocket messages (docs/protocol.md §1.3): a transport message whose messages carry bytes
 * leaves a WebSocket as one binary message with the bytes raw, instead of base64 inside text.
 *
 *   byte 0      layout version, 1
 *   bytes 1–4   H, the header's length (u32, big-endian)
 *   H bytes     the header: UTF-8 JSON, the transport message as text would carry it, except that
 *               each `msg` frame with bytes says `"e":"bin"` and has `{"$r":i}` where the text form
 *               has `{"$b":"<base64>"}`
 *   then        segment 0, 1, …: each a u32 big-endian length and that many raw bytes; `$r: i`
 *               is segment i
 *
 * Everything above the WebSocket keeps the text form (`b64`): outboxes, replay buffers, session
 * hand-over and the Redis store hold it, and the HTTP rungs write it. Only a WebSocket write turns
 * it into this layout, and only a WebSocket read parses it; so a message queued on one rung and
 * resent on another is always written in that rung's form.
 */
export const BINARY_LAYOUT = 1;

/**
 * A `{"$b":"…"}` tag in the text of a `b64` msg frame. Unambiguous there: the payload's own keys
 * starting with `$` are escaped (`$$…`, §1.1), and quotes inside strings are escaped, so this text
 * only occurs as a tag.
 */
const TAG = /\{"\$b":"([A-Za-z0-9+/=]*)"\}/g;
/** How `encodeFrame.msg` ends a frame whose payload carries bytes. */
const B64_END = ',"e":"b64"}';

/**
 * The binary form of a transport message made of encoded frames (`parts`), or undefined when none
 * of them carries bytes (it then goes as text, `batch(parts)`).
 */
export function toBinary(parts: readonly string[]): Uint8Array | undefined {
  let segments: Uint8Array[] | undefined;
  let texts = parts as string[];
  for (let p = 0; p < parts.length; p++) {
    const part = parts[p]!;
    // Only a msg frame as `encodeFrame.msg` writes it, with bytes inside, is rewritten.
    if (!part.endsWith(B64_END) || !part.startsWith('{"t":"msg"')) continue;
    if (!segments) (segments = []), (texts = parts.slice());
    const all = segments;
    texts[p] = `${part.slice(0, -B64_END.length).replace(TAG, (_, b64: string) => `{"${RAW}":${all.push(fromBase64(b64)!) - 1}}`)},"e":"bin"}`;
  }
  if (!segments) return undefined;
  const header = encoder.encode(batch(texts));
  let size = 5 + header.length;
  for (const s of segments) size += 4 + s.length;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  out[0] = BINARY_LAYOUT;
  view.setUint32(1, header.length);
  out.set(header, 5);
  let at = 5 + header.length;
  for (const s of segments) {
    view.setUint32(at, s.length);
    out.set(s, at + 4);
    at += 4 + s.length;
  }
  return out;
}

const encoder = new TextEncoder();
// fatal: a header that is not UTF-8 is a protocol error, not text with replacement characters.
const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes a binary WebSocket message into frames whose data holds the bytes (as `Uint8Array`
 * copies); throws `DecodeError` when anything about it is malformed.
 */
export function decodeBinary(data: Uint8Array): Frame[] {
  // A plain view: a Node Buffer's `slice` would share memory, Uint8Array's copies.
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (bytes.length < 5 || bytes[0] !== BINARY_LAYOUT) throw new DecodeError(`binary message: not layout ${BINARY_LAYOUT}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const end = 5 + view.getUint32(1);
  if (end > bytes.length) throw new DecodeError('binary message: header runs past the end');
  let text: string;
  try {
    text = decoder.decode(bytes.subarray(5, end));
  } catch {
    throw new DecodeError('binary message: header is not UTF-8');
  }
  const segments: Uint8Array[] = [];
  for (let at = end; at < bytes.length; ) {
    if (at + 4 > bytes.length) throw new DecodeError('binary message: a segment length is cut');
    const next = at + 4 + view.getUint32(at);
    if (next > bytes.length) throw new DecodeError('binary message: a segment runs past the end');
    segments.push(bytes.subarray(at + 4, next));
    at = next;
  }
  const frames = decode(text);
  for (const f of frames) {
    if (f.t === 'msg' && f.e === 'bin') {
      f.d = resolveRaw(f.d, segments);
      delete f.e;
    }
  }
  return frames;
}
