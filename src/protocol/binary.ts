import { fromBase64 } from './base64';
import { batch } from './encode';
import { decode, DecodeError, type FrameChecks } from './codec';
import { RAW, resolveRaw } from './data';
import type { Frame } from './frames';
import { encoder } from './limits';
import { DEV } from '../dev';

/**
 * Binary WebSocket messages (docs/protocol.md §1.3): a transport message whose messages carry bytes
 * leaves a WebSocket as one binary message with the bytes raw, instead of base64 inside text.
 *
 *   byte 0      layout version, 1
 *   then        chunks, each a u32 big-endian length and that many bytes:
 *     chunk 0   the header: UTF-8 JSON, the transport message as text would carry it, except that
 *               each `msg` frame with bytes says `"e":"bin"` and has `{"$r":i}` where the text form
 *               has `{"$b":"<base64>"}`
 *     chunk i+1 segment i: the raw bytes that `{"$r":i}` stands for
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
/** How `encodeMsg` ends a frame whose payload carries bytes. */
const B64_END = ',"e":"b64"}';
// fatal: a header that is not UTF-8 is a protocol error, not text with replacement characters.
const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * The binary form of a transport message made of encoded frames (`parts`), or undefined when none
 * of them carries bytes (it then goes as text, `batch(parts)`). `decode64` turns the tags' base64
 * (always our own, valid) back into bytes: the server passes Node's, which is faster.
 */
export function toBinary(parts: readonly string[], decode64 = fromBase64 as (s: string) => Uint8Array): Uint8Array | undefined {
  let segments: Uint8Array[] | undefined;
  let texts = parts as string[];
  for (let p = 0; p < parts.length; p++) {
    const part = parts[p]!;
    // Only a msg frame as `encodeMsg` writes it, with bytes inside, is rewritten.
    if (!part.endsWith(B64_END) || !part.startsWith('{"t":"msg"')) continue;
    if (!segments) (segments = []), (texts = parts.slice());
    texts[p] = `${part.slice(0, -B64_END.length).replace(TAG, (_, b64: string) => `{"${RAW}":${segments!.push(decode64(b64)) - 1}}`)},"e":"bin"}`;
  }
  if (!segments) return undefined;
  // The header is the first length-prefixed chunk, the segments the others.
  const chunks = [encoder.encode(batch(texts)), ...segments];
  const out = new Uint8Array(chunks.reduce((n, c) => n + 4 + c.length, 1));
  const view = new DataView(out.buffer);
  out[0] = BINARY_LAYOUT;
  let at = 1;
  for (const c of chunks) view.setUint32(at, c.length), out.set(c, at + 4), (at += 4 + c.length);
  return out;
}

/**
 * Decodes a binary WebSocket message into frames whose data holds the bytes (as `Uint8Array`
 * copies); throws `DecodeError` when anything about it is malformed.
 */
export function decodeBinary(data: Uint8Array, checks?: FrameChecks): Frame[] {
  // A plain view: a Node Buffer's `slice` would share memory, Uint8Array's copies.
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const segments: Uint8Array[] = [];
  let text: string;
  try {
    // Every length is checked: here, or by DataView (a read past the end throws), or by the
    // decoder (a header that is not UTF-8 throws: fatal). One message for all: size matters here.
    if (bytes[0] !== BINARY_LAYOUT) throw 0;
    for (let at = 1; at < bytes.length; ) {
      const next = at + 4 + view.getUint32(at);
      if (next > bytes.length) throw 0;
      segments.push(bytes.subarray(at + 4, next));
      at = next;
    }
    // The first chunk is the header (absent: not JSON, below).
    text = decoder.decode(segments.shift());
  } catch {
    throw new DecodeError(DEV ? `malformed binary message (layout ${BINARY_LAYOUT}, §1.3)` : '');
  }
  const frames = decode(text, checks);
  for (const f of frames) {
    if (f.t === 'msg' && f.e === 'bin') {
      f.d = resolveRaw(f.d, segments);
      delete f.e;
    }
  }
  return frames;
}
