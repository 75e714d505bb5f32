import { expect, test } from 'vitest';
import { decode as clientDecode, DecodeError } from '../../src/protocol/codec';
import { decode as serverDecode } from '../../src/server/codec';
import { seeded } from '../../lab/random';

/*
 * Seeded fuzzing of the decoder: whatever arrives, it returns well-formed frames or throws a
 * DecodeError — never anything else (a TypeError from a missing check would take down a
 * connection handler, or worse).
 */
const valid = [
  '{"t":"greet","v":[1]}',
  '{"t":"hello","v":1,"sid":"a","key":"b","ack":3,"race":"r"}',
  '{"t":"welcome","v":3,"sid":"a","key":"b","hb":5000,"ack":0,"resumed":false,"max":1000}',
  '{"t":"msg","s":1,"ev":"chat","d":{"text":"hi","n":[1,2,{"x":null}]}}',
  '[{"t":"ack","a":4},{"t":"ping","n":2},{"t":"pong"}]',
  '{"t":"error","code":"x","message":"y","status":401,"fatal":true}',
  '{"t":"bye","code":1000,"reason":"done"}',
];
const alphabet = '{}[]":,tdsvn0123456789-.eE\\u"\' \n\ttrue false null msg ack ping hello __proto__ constructor';

function mutate(text: string, rnd: () => number): string {
  const chars = [...text];
  const edits = 1 + Math.floor(rnd() * 4);
  for (let i = 0; i < edits; i++) {
    const at = Math.floor(rnd() * (chars.length + 1));
    const op = rnd();
    if (op < 0.33) chars.splice(at, 1);
    else if (op < 0.66) chars.splice(at, 0, alphabet[Math.floor(rnd() * alphabet.length)]!);
    else chars[at] = alphabet[Math.floor(rnd() * alphabet.length)]!;
  }
  return chars.join('');
}

test.each([
  ['client', clientDecode],
  ['server', serverDecode],
])('20,000 mutated messages to the %s decoder: frames or a DecodeError, nothing else', (_, decode) => {
  const rnd = seeded(2026);
  let accepted = 0;
  for (let i = 0; i < 20_000; i++) {
    const text = mutate(valid[i % valid.length]!, rnd);
    try {
      const frames = decode(text);
      accepted++;
      for (const f of frames) expect(typeof f.t).toBe('string');
    } catch (e) {
      expect(e).toBeInstanceOf(DecodeError);
    }
  }
  // Some mutations keep a message valid (a changed digit); most must be refused.
  expect(accepted).toBeGreaterThan(0);
  expect(accepted).toBeLessThan(20_000);
});

test.each([
  ['client', clientDecode],
  ['server', serverDecode],
])('deeply nested payloads and huge numbers are data, not crashes (%s)', (_, decode) => {
  const deep = `{"t":"msg","s":1,"ev":"x","d":${'['.repeat(2000)}${']'.repeat(2000)}}`;
  expect(decode(deep)[0]!.t).toBe('msg');
  expect(() => decode('{"t":"ack","a":1e400}')).toThrow(DecodeError);
  // Sequence numbers past 2^53 cannot be counted exactly: refused, not silently rounded.
  expect(() => decode('{"t":"msg","s":9007199254740993,"ev":"x","d":1}')).toThrow(DecodeError);
  expect(() => decode('{"t":"msg","s":1.5,"ev":"x","d":1}')).toThrow(DecodeError);
});
