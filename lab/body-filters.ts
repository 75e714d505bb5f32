import zlib from 'node:zlib';
import { getHeader, setHeader, type Head } from './http-head';

/**
 * What a middlebox does to a response body on its way down: the exchange writes the upstream's
 * body bytes in and ends it when the upstream ends; `out` gets what the client sees, and
 * `done` runs once the last of it was handed to `out`.
 */
export interface BodyFilter {
  write(chunk: Buffer): void;
  end(done: () => void): void;
}

/**
 * A buffering proxy (buffer-sse): everything, the head included (`first`), is held until
 * `bytes` of body have come (counted raw, chunked framing included), then goes down as one
 * batch; and again, for every batch after: a buffering proxy keeps buffering.
 */
export function bufferBody(bytes: number, first: Buffer, out: (b: Buffer) => void): BodyFilter {
  let held = [first];
  let size = 0;
  const flush = () => {
    if (held.length) out(Buffer.concat(held));
    held = [];
    size = 0;
  };
  return {
    write(chunk) {
      held.push(chunk);
      if ((size += chunk.length) >= bytes) flush();
    },
    end(done) {
      flush();
      done();
    },
  };
}

/**
 * A compressing proxy (gzip-sse): the upstream body, de-chunked when `chunked`, gzip-encoded and
 * sent close-delimited. `flush: 'chunk'` flushes the compressor after every upstream chunk (a
 * proxy that knows event streams); `'full'` leaves zlib to emit when its buffer is full, so small
 * events wait, like nginx's gzip on a stream without `X-Accel-Buffering: no`.
 */
export function gzipBody(flush: 'chunk' | 'full', chunked: boolean, out: (b: Buffer) => void): BodyFilter {
  const gz = zlib.createGzip();
  gz.on('data', out);
  gz.on('error', () => {}); // written after end only when the upstream misbehaves: nothing to add
  const plain = chunked ? dechunker() : (b: Buffer) => b;
  return {
    write(chunk) {
      const body = plain(chunk);
      if (!body.length) return;
      gz.write(body);
      if (flush === 'chunk') gz.flush(zlib.constants.Z_SYNC_FLUSH);
    },
    end(done) {
      gz.once('end', done);
      gz.end();
    },
  };
}

/**
 * A response gzip-encoded on the way (gzip-sse): the head rewritten in place to say so, the body
 * re-encoded and close-delimited (the lab's responses all say `Connection: close`): no length, no chunks.
 */
export function gzipResponse(head: Head, flush: 'chunk' | 'full', out: (b: Buffer) => void): BodyFilter {
  const chunked = /chunked/i.test(getHeader(head, 'transfer-encoding') ?? '');
  setHeader(head, 'transfer-encoding');
  setHeader(head, 'content-length');
  setHeader(head, 'content-encoding', 'gzip');
  return gzipBody(flush, chunked, out);
}

/**
 * `Transfer-Encoding: chunked` (RFC 9112 §7.1) undone, fed bytes in any split: returns the data
 * the chunks carried so far. Extensions and trailers are skipped.
 */
export function dechunker(): (b: Buffer) => Buffer {
  let buf = Buffer.alloc(0);
  let state: 'size' | 'data' | 'crlf' | 'done' = 'size';
  let left = 0; // bytes of chunk data still to come
  return (b) => {
    if (state === 'done') return Buffer.alloc(0);
    buf = Buffer.concat([buf, b]);
    const data: Buffer[] = [];
    for (;;) {
      if (state === 'data') {
        const take = Math.min(left, buf.length);
        data.push(buf.subarray(0, take));
        buf = buf.subarray(take);
        if ((left -= take) > 0) break;
        state = 'crlf';
      } else {
        if (state === 'crlf' && buf.length < 2) break;
        if (state === 'crlf') {
          buf = buf.subarray(2);
          state = 'size';
        }
        const eol = buf.indexOf('\r\n');
        if (eol < 0) break;
        left = parseInt(buf.subarray(0, eol).toString('latin1'), 16); // `;ext` ends the number
        buf = buf.subarray(eol + 2);
        state = left > 0 ? 'data' : 'done';
        if (state === 'done') break;
      }
    }
    return Buffer.concat(data);
  };
}
