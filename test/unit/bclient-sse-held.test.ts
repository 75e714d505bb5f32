import { expect, test } from 'vitest';
import { sseParser } from '../../src/transports/sse-parser';

// The SSE transport refuses a stream once the parser holds too much of one event (sse.ts): what
// the parser returns must count the unfinished line and the event's data so far, and drop to 0
// once the event is dispatched (or a comment line is skipped).
test('the parser returns how much of an unfinished event it holds', () => {
  const got: string[] = [];
  const feed = sseParser((d) => got.push(d));
  expect(feed('data: ab')).toBe(8);
  expect(feed('cd\ndata: e')).toBe(4 + 7);
  expect(feed('\n')).toBe(6);
  expect(feed(': a long comment')).toBe(6 + 16);
  expect(feed('\n\n')).toBe(0);
  expect(got).toEqual(['abcd\ne']);
  expect(feed('data: x\r')).toBe(0 + 1);
  expect(feed('')).toBe(1);
  expect(feed('\n\n')).toBe(0);
  expect(got).toEqual(['abcd\ne', 'x']);
});
