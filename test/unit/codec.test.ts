import { describe, expect, test } from 'vitest';
import { decode, DecodeError, encode } from '../../src/protocol/codec';
import { decode as serverDecode } from '../../src/server/codec';

describe('codec', () => {
  test('one frame encodes as an object, several as an array, and both decode to a list', () => {
    expect(encode([{ t: 'ping', n: 1 }])).toBe('{"t":"ping","n":1}');
    const batch = encode([{ t: 'ack', a: 3 }, { t: 'msg', s: 4, ev: 'chat', d: { x: 1 } }]);
    expect(batch.startsWith('[')).toBe(true);
    expect(decode(batch)).toEqual([{ t: 'ack', a: 3 }, { t: 'msg', s: 4, ev: 'chat', d: { x: 1 } }]);
  });

  test('a msg may carry an ack (`pa`, protocol.md §4)', () => {
    expect(decode('{"t":"msg","s":4,"a":3,"ev":"chat","d":1}')).toEqual([{ t: 'msg', s: 4, a: 3, ev: 'chat', d: 1 }]);
  });

  test('unknown fields are ignored (how v1 grows)', () => {
    expect(decode('{"t":"ping","n":2,"future":true}')).toEqual([{ t: 'ping', n: 2, future: true }]);
  });

  test.each([
    ['not JSON', '{"t":'],
    ['a bare number', '42'],
    ['null', 'null'],
    ['a frame without a type', '{"a":1}'],
    ['an unknown type', '{"t":"nope"}'],
    ['a type inherited from Object.prototype', '{"t":"constructor"}'],
    ['a type that is __proto__', '{"t":"__proto__"}'],
    ['msg without a sequence number', '{"t":"msg","ev":"x","d":1}'],
    ['msg with sequence 0', '{"t":"msg","s":0,"ev":"x","d":1}'],
    ['msg with a fractional sequence', '{"t":"msg","s":1.5,"ev":"x","d":1}'],
    ['msg with an empty type', '{"t":"msg","s":1,"ev":"","d":1}'],
    ['msg with an ack that is not a number', '{"t":"msg","s":1,"a":"2","ev":"x","d":1}'],
    ['msg with a negative ack', '{"t":"msg","s":1,"a":-1,"ev":"x","d":1}'],
    ['ack with a negative number', '{"t":"ack","a":-1}'],
    ['welcome missing its key', '{"t":"welcome","v":3,"sid":"a","hb":1,"ack":0,"resumed":false,"max":1}'],
    ['hello with a string version', '{"t":"hello","v":"1"}'],
    ['one bad frame in a batch', '[{"t":"ping"},{"t":"ack"}]'],
  ])('rejects %s with a DecodeError, on both sides', (_, text) => {
    expect(() => decode(text)).toThrow(DecodeError);
    expect(() => serverDecode(text)).toThrow(DecodeError);
  });

  test('the client decodes only the frames a server sends; the server also hello and report', () => {
    const hello = '{"t":"hello","v":3,"sid":"a","key":"b","ack":2,"race":"r"}';
    const report = '{"t":"report","a":[["ws","failed",3,"WF_NO_DATA"]]}';
    for (const text of [hello, report]) {
      expect(() => decode(text)).toThrow(DecodeError);
      expect(serverDecode(text)).toEqual([JSON.parse(text)]);
    }
    // Everything a client reads, the server's decoder reads alike.
    const welcome = '{"t":"welcome","v":3,"sid":"a","key":"b","hb":5000,"ack":0,"resumed":false,"max":9}';
    for (const text of ['{"t":"greet","v":[3,2,1]}', welcome, '{"t":"ping","n":1}', '{"t":"pong"}', '{"t":"msg","s":1,"ev":"x","d":1}', '{"t":"ack","a":1}', '{"t":"error","code":"x","message":"y"}', '{"t":"bye","code":1000}']) {
      expect(decode(text)).toEqual([JSON.parse(text)]);
      expect(serverDecode(text)).toEqual([JSON.parse(text)]);
    }
  });

  test('a hello with an oversized field or over the whole bound is refused', () => {
    expect(() => serverDecode(JSON.stringify({ t: 'hello', v: 3, race: 'r'.repeat(129) }))).toThrow(DecodeError);
    expect(() => serverDecode(JSON.stringify({ t: 'hello', v: 3, auth: 'x'.repeat(16 * 1024) }))).toThrow(DecodeError);
    expect(serverDecode(JSON.stringify({ t: 'hello', v: 3, auth: 'x'.repeat(1000) }))).toHaveLength(1);
  });
});
