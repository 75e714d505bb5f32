import { describe, expect, test } from 'vitest';
import fc from 'fast-check';
import { decodeData, encodeData, tryEncode } from '../../src/protocol/data';
import { fromBase64, toBase64 } from '../../src/protocol/base64';
import { decode } from '../../src/protocol/codec';
import { encodeFrame } from '../../src/protocol/encode';

/** What a receiver makes of what a sender encoded: the msg frame, through the codec. */
function trip(data: unknown): unknown {
  const { payload, e } = encodeData(data, 'x');
  const [f] = decode(encodeFrame.msg(1, 'x', payload, e));
  return decodeData((f as { d: unknown }).d, (f as { e?: string }).e);
}

describe('application data', () => {
  test('plain JSON stays plain: no encoding field, the JSON text as before', () => {
    expect(encodeData({ a: [1, 'b', null, true] }, 'x')).toEqual({ payload: '{"a":[1,"b",null,true]}' });
    expect(encodeData(undefined, 'x')).toEqual({ payload: 'null' });
    // An undefined property is left out, as JSON does: it is how an optional field is absent.
    expect(encodeData({ a: 1, b: undefined }, 'x')).toEqual({ payload: '{"a":1}' });
  });

  test('bytes anywhere in the data make the trip as Uint8Array (an ArrayBuffer too)', () => {
    const data = { img: new Uint8Array([1, 2, 255]), list: [new Uint8Array(0), { raw: new Uint8Array([9]).buffer }], n: 1 };
    expect(encodeData(data, 'x').e).toBe('b64');
    expect(trip(data)).toEqual({ img: new Uint8Array([1, 2, 255]), list: [new Uint8Array(0), { raw: new Uint8Array([9]) }], n: 1 });
    expect(trip(new Uint8Array([1, 2]))).toEqual(new Uint8Array([1, 2]));
  });

  test('a prototype-less object is plain, a Buffer is bytes, other views and instances are refused', () => {
    // The check tests for a plain object before it tests for bytes (src/protocol/data.ts, scan).
    expect(encodeData({ o: Object.assign(Object.create(null) as object, { a: 1 }) }, 'x')).toEqual({ payload: '{"o":{"a":1}}' });
    expect(trip({ b: Buffer.from([1, 2]) })).toEqual({ b: new Uint8Array([1, 2]) });
    expect(() => encodeData({ v: new DataView(new ArrayBuffer(1)) }, 'x')).toThrow(expect.objectContaining({ code: 'WF_INVALID', message: expect.stringContaining('"x" data.v: DataView') }));
  });

  test('keys that look like the encoding ($b, $x, $$) survive next to bytes', () => {
    const data = { $b: 'not bytes', $$: 1, inner: { $b: new Uint8Array([7]) }, bytes: new Uint8Array([1]), ['__proto__']: 5 };
    const back = trip(JSON.parse(JSON.stringify({ ...data, inner: null, bytes: null })) as object) as Record<string, unknown>;
    expect(back.$b).toBe('not bytes');
    const withBytes = trip({ $b: 'not bytes', $$: 1, inner: { $b: new Uint8Array([7]) }, bytes: new Uint8Array([1]) }) as Record<string, unknown>;
    expect(withBytes).toEqual({ $b: 'not bytes', $$: 1, inner: { $b: new Uint8Array([7]) }, bytes: new Uint8Array([1]) });
  });

  test('a "__proto__" key stays a plain property on the way back', () => {
    const d = JSON.parse('{"__proto__":{"polluted":1},"b":{"$b":"AQ=="}}') as unknown;
    const back = decodeData(d, 'b64') as Record<string, unknown>;
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.keys(back)).toEqual(['__proto__', 'b']);
  });

  test.each([
    [{ when: new Date(0) }, '"x" data.when: Date'],
    [new Map([[1, 2]]), '"x" data: Map'],
    [{ a: [1, new Set([1])] }, '"x" data.a[1]: Set'],
    [{ f: () => 1 }, '"x" data.f: function'],
    [{ n: NaN }, '"x" data.n: NaN'],
    [{ n: Infinity }, '"x" data.n: Infinity'],
    [{ big: 1n }, '"x" data.big: bigint'],
    [[1, undefined], '"x" data[1]: undefined'],
    [{ c: new (class Point { x = 1 })() }, '"x" data.c: Point'],
    [{ v: new Int16Array(2) }, '"x" data.v: Int16Array'],
    [{ s: Symbol('s') }, '"x" data.s: symbol'],
  ])('%o is refused with WF_INVALID naming its path', (data, path) => {
    expect(() => encodeData(data, 'x')).toThrow(expect.objectContaining({ code: 'WF_INVALID', message: expect.stringContaining(path) }));
  });

  test('a cycle is refused, not a stack overflow', () => {
    const a: Record<string, unknown> = {};
    a.self = a;
    expect(() => encodeData(a, 'x')).toThrow(expect.objectContaining({ code: 'WF_INVALID', message: expect.stringContaining('a cycle?') }));
  });

  test('the decoder refuses broken or unknown encodings with DecodeError, and deep nesting without overflowing', () => {
    for (const [d, e] of [
      [{ $b: 'A' }, 'b64'], [{ $b: 1 }, 'b64'], [{ $x: 1 }, 'b64'], [{ $b: '@@@@' }, 'b64'], [1, 'zip'],
      [JSON.parse('['.repeat(5000) + ']'.repeat(5000)), 'b64'],
    ] as const) expect(() => decodeData(d, e)).toThrow(expect.objectContaining({ name: 'DecodeError' }));
  });

  test('base64 matches the RFC 4648 vectors and round-trips any bytes', () => {
    const vectors = ['', 'Zg==', 'Zm8=', 'Zm9v', 'Zm9vYg==', 'Zm9vYmE=', 'Zm9vYmFy'];
    vectors.forEach((v, i) => {
      expect(toBase64(new TextEncoder().encode('foobar'.slice(0, i)))).toBe(v);
      expect(new TextDecoder().decode(fromBase64(v))).toBe('foobar'.slice(0, i));
    });
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (b) => void expect(fromBase64(toBase64(b))).toEqual(b)));
    expect(fromBase64('Zg=')).toBeUndefined();
    expect(fromBase64('Z===')).toBeUndefined();
  });

  test('any JSON value with bytes anywhere round-trips exactly (fast-check)', () => {
    const value = fc.letrec((tie) => ({
      v: fc.oneof({ depthSize: 'small' }, fc.string(), fc.integer(), fc.boolean(), fc.constant(null), fc.uint8Array({ maxLength: 20 }),
        fc.array(tie('v')), fc.dictionary(fc.oneof(fc.string(), fc.constantFrom('$b', '$', '$$b', '__proto__')), tie('v'))),
    })).v;
    fc.assert(fc.property(value, (v) => void expect(trip(v)).toEqual(v)), { numRuns: 300 });
  });

  test("tryEncode (the server's send) returns WF_INVALID for any failure, the app's own included", () => {
    const boom = new Error('getter failed');
    const data = { get x() { throw boom; } };
    const err = tryEncode(data, 'x');
    expect(err).toMatchObject({ name: 'WirefallError', code: 'WF_INVALID', cause: boom });
    expect(tryEncode({ a: 1 }, 42 as unknown as string)).toMatchObject({ code: 'WF_INVALID' });
    expect(tryEncode({ a: 1 }, '')).toMatchObject({ code: 'WF_INVALID' });
    expect(tryEncode({ a: 1 }, '$x')).toMatchObject({ code: 'WF_INVALID' });
    expect(tryEncode({ a: 1 }, 'x')).toEqual({ payload: '{"a":1}' });
  });
});
