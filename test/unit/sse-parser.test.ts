import { describe, expect, it } from 'vitest';
import { sseParser } from '../../src/transports/sse-parser';

/** Parses `chunks` of bytes the way the SSE transport does: stream-mode TextDecoder, then the parser. */
function parse(chunks: Uint8Array[]): string[] {
  const out: string[] = [];
  const feed = sseParser((d) => out.push(d));
  const dec = new TextDecoder();
  for (const c of chunks) feed(dec.decode(c, { stream: true }));
  feed(dec.decode());
  return out;
}

const bytes = (s: string) => new TextEncoder().encode(s);

// Every line ending, comments, ignored fields, optional space, multi-line data, empty data,
// multi-byte UTF-8 (2, 3 and 4 bytes) and a raw U+2028, which is not a line break here.
const STREAM =
  ': comment at the start\r\n' +
  'data: {"t":"greet","v":[1]}\n\n' +
  'event: ignored\r\nid: 7\rretry: 1000\ndata:no space\r\n\r\n' +
  'data: first\ndata:  second keeps one space\ndata\n\n' +
  'data: crlf\r\ndata: joined\r\n\r\n' +
  ': ka\n\n' +
  '\n\n\n' +
  'data:\r\rdatabase: not data\ndata: é€😀\u2028end\r\n\r' +
  'data: {"t":"msg","s":1,"ev":"x","d":"a:b"}\n\n' +
  'data: unterminated, never dispatched\n';

const EXPECTED = [
  '{"t":"greet","v":[1]}',
  'no space',
  'first\n second keeps one space\n',
  'crlf\njoined',
  '',
  'é€😀\u2028end',
  '{"t":"msg","s":1,"ev":"x","d":"a:b"}',
];

describe('sseParser', () => {
  it('parses a whole stream', () => {
    expect(parse([bytes(STREAM)])).toEqual(EXPECTED);
  });

  it('gives the same events however the bytes are split in two', () => {
    const all = bytes(STREAM);
    for (let i = 0; i <= all.length; i++) {
      expect(parse([all.subarray(0, i), all.subarray(i)]), `split at ${i}`).toEqual(EXPECTED);
    }
  });

  it('gives the same events however the bytes are split in three', () => {
    const all = bytes(STREAM);
    for (let i = 0; i <= all.length; i++) {
      for (let j = i; j <= all.length; j++) {
        const got = parse([all.subarray(0, i), all.subarray(i, j), all.subarray(j)]);
        if (JSON.stringify(got) !== JSON.stringify(EXPECTED)) expect(got, `split at ${i}, ${j}`).toEqual(EXPECTED);
      }
    }
  });

  it('gives the same events fed one byte at a time', () => {
    const all = bytes(STREAM);
    expect(parse([...all].map((b) => Uint8Array.of(b)))).toEqual(EXPECTED);
  });

  it('treats CR then LF across chunks as one line break, and CR CR as two', () => {
    const out: string[] = [];
    const feed = sseParser((d) => out.push(d));
    feed('data: a\r');
    feed('');
    feed('\ndata: a2\r');
    feed('\n\r');
    feed('\ndata: b\r');
    feed('\r');
    expect(out).toEqual(['a\na2', 'b']);
  });
});
