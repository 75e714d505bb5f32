/**
 * Property-based tests of the codec (fast-check): whatever arrives, `decode` returns frames within
 * every bound or throws a DecodeError, and what the typed encoders write always decodes.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decode, DecodeError } from '../../src/protocol/codec';
import { decode as serverDecode } from '../../src/server/codec';
import { encodeFrame } from '../../src/server/codec';
import type { Frame } from '../../src/protocol/frames';
import { cutUtf8, LIMITS, utf8Length } from '../../src/protocol/limits';
import { WIRE_ERROR_CODES } from '../../src/protocol/wire-errors';

const TYPES = ['greet', 'hello', 'welcome', 'ping', 'pong', 'msg', 'ack', 'error', 'bye', 'constructor', '__proto__', ''];
const FIELDS = ['v', 'sid', 'key', 'ack', 'auth', 'race', 'hb', 'resumed', 'max', 'n', 's', 'ev', 'd', 'e', 'a', 'code', 'message', 'status', 'fatal', 'reason'];

/** Any value a field might hold, long strings and non-BMP text included. */
const value = fc.oneof(
  fc.string({ maxLength: 300, unit: 'binary' }),
  fc.string({ minLength: 100, maxLength: 20_000 }),
  fc.nat(),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.nat(), { maxLength: 20 }),
  fc.jsonValue({ maxDepth: 3 }),
);
/** Frame-shaped objects: a known (or hostile) type and any fields, which is where bugs hide. */
const frameish = fc.record({ t: fc.constantFrom(...TYPES) }).chain((base) =>
  fc.dictionary(fc.constantFrom(...FIELDS), value, { maxKeys: 8 }).map((fields) => ({ ...fields, ...base })),
);
const message = fc.oneof(
  frameish.map((f) => JSON.stringify(f)),
  fc.array(frameish, { maxLength: 5 }).map((l) => JSON.stringify(l)),
  fc.json(),
  fc.string({ unit: 'binary' }),
);

/** The bounds docs/protocol.md §1 promises of the fields each frame type defines (unknown fields are ignored). */
const BOUNDED: Record<string, [string, number][]> = {
  hello: [['sid', LIMITS.id], ['key', LIMITS.id], ['race', LIMITS.id]],
  welcome: [['sid', LIMITS.id], ['key', LIMITS.id]],
  msg: [['ev', LIMITS.type], ['e', LIMITS.encoding]],
  error: [['code', LIMITS.code], ['message', LIMITS.message]],
  bye: [['reason', LIMITS.reason]],
};
function withinBounds(f: Frame): boolean {
  const r = f as unknown as Record<string, unknown>;
  const ok = (BOUNDED[f.t] ?? []).every(([k, max]) => r[k] === undefined || (typeof r[k] === 'string' && (r[k] as string).length <= max));
  return (
    ok &&
    (f.t !== 'bye' || r.reason === undefined || utf8Length(r.reason as string) <= LIMITS.reason) &&
    (f.t !== 'hello' || JSON.stringify(f).length <= LIMITS.hello) &&
    (f.t !== 'greet' || f.v.length <= LIMITS.versions)
  );
}

describe.each([
  ['client', decode],
  ['server', serverDecode],
])('decode (%s)', (_, decode) => {
  it('returns bounded frames or throws DecodeError, never anything else', () => {
    fc.assert(
      fc.property(message, (text) => {
        try {
          for (const f of decode(text)) expect(withinBounds(f)).toBe(true);
        } catch (e) {
          expect(e).toBeInstanceOf(DecodeError);
        }
      }),
      { numRuns: 3000 },
    );
  });
});

describe('the typed encoders', () => {
  const text = fc.string({ maxLength: 3000, unit: 'grapheme' });
  const binary = fc.string({ maxLength: 3000, unit: 'binary' });

  it('error and bye frames decode whatever message or reason they are given (cut, never split)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...WIRE_ERROR_CODES), fc.oneof(text, binary), fc.integer({ min: 1000, max: 4999 }), (code, words, closeCode) => {
        const [err] = decode(encodeFrame.error(code, words, 400));
        expect(err).toMatchObject({ t: 'error', code });
        expect(words.startsWith((err as { message: string }).message)).toBe(true);
        const [bye] = decode(encodeFrame.bye(closeCode, words));
        expect(words.startsWith((bye as { reason: string }).reason)).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  it('msg frames round-trip any type within the bound and any JSON payload', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), fc.string({ minLength: 1, maxLength: LIMITS.type }), fc.jsonValue(), (s, ev, d) => {
        const [f] = decode(encodeFrame.msg(s, ev, JSON.stringify(d)));
        expect(f).toMatchObject({ t: 'msg', s, ev });
      }),
      { numRuns: 1000 },
    );
  });
});

describe('cutUtf8', () => {
  it('keeps at most max bytes, a prefix, and never half of a surrogate pair', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 400, unit: 'grapheme' }), fc.string({ maxLength: 400, unit: 'binary' })), fc.nat({ max: 200 }), (s, max) => {
        const cut = cutUtf8(s, max);
        expect(utf8Length(cut)).toBeLessThanOrEqual(max);
        expect(s.startsWith(cut)).toBe(true);
        if (cut.length < s.length) {
          const last = cut.charCodeAt(cut.length - 1);
          const next = s.charCodeAt(cut.length);
          // A high surrogate kept without its low half would be a split character.
          expect(last >= 0xd800 && last <= 0xdbff && next >= 0xdc00 && next <= 0xdfff).toBe(false);
          // And it kept as much as fits: one more code point would exceed the bound.
          expect(utf8Length(s.slice(0, cut.length + (next >= 0xd800 && next <= 0xdbff ? 2 : 1)))).toBeGreaterThan(max);
        }
      }),
      { numRuns: 3000 },
    );
  });
});
