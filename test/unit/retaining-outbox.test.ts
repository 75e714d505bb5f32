import { expect, test } from 'vitest';
import { KEPT, RetainingOutbox } from '../../src/server/retaining-outbox';

/*
 * The server outbox of a session shared by tabs keeps its last acknowledged messages a while, so
 * that a next leader tab resuming behind the crashed leader's last ack gets them again
 * (docs/sharing.md). Bounded by count and age; a session that is not shared keeps nothing.
 */
const filled = (n: number, retain: boolean) => {
  const o = new RetainingOutbox({ maxMessages: 1000, maxBytes: 1 << 20 });
  o.retain = retain;
  for (let i = 1; i <= n; i++) void o.push('m', `${i}`);
  o.takeUnsent(1 << 20, 0); // written
  return o;
};
const numbers = (o: RetainingOutbox) => o.q.map((e) => e.s);

test('a shared session resumed behind its ack gets the kept messages again, in order, before the rest', () => {
  const o = filled(6, true);
  expect(o.ack(2, 0)).toBe(true);
  expect(o.ack(4, 10)).toBe(true);
  expect(numbers(o)).toEqual([5, 6]);
  expect(o.reopen(1, 20)).toBe(true);
  expect(o.acked).toBe(1);
  expect(numbers(o)).toEqual([2, 3, 4, 5, 6]);
  expect(o.bytes).toBe(5);
  // At or beyond what was acknowledged, nothing changes.
  expect(o.reopen(3, 20)).toBe(true);
  expect(numbers(o)).toEqual([2, 3, 4, 5, 6]);
});

test('nothing is kept for a session that is not shared, or past the bounds', () => {
  const plain = filled(4, false);
  plain.ack(3, 0);
  expect(plain.reopen(1, 0)).toBe(false);

  const many = filled(KEPT.messages + 10, true);
  many.ack(KEPT.messages + 5, 0);
  expect(many.reopen(2, 0)).toBe(false); // 3 is no longer kept
  expect(many.reopen(6, 0)).toBe(true); // 7 onwards is
  expect(numbers(many)[0]).toBe(7);

  const old = filled(4, true);
  old.ack(3, 0);
  expect(old.reopen(1, KEPT.ms + 1)).toBe(false);
});
