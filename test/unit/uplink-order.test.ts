import { expect, test } from 'vitest';
import { UplinkOrder } from '../../src/server/uplink-order';

const order = () => new UplinkOrder<string>({ window: 4, maxBytes: 100 });

test('POSTs that arrive out of order are released in number order, each once', () => {
  const o = order();
  expect(o.offer(2, 'b', 10)).toEqual({ kind: 'held' });
  expect(o.offer(4, 'd', 10)).toEqual({ kind: 'held' });
  expect(o.waiting).toBe(true);
  expect(o.offer(1, 'a', 10)).toEqual({ kind: 'ready', items: ['a', 'b'] });
  expect(o.next).toBe(3);
  expect(o.waiting).toBe(true); // 4 still waits for 3
  expect(o.offer(3, 'c', 10)).toEqual({ kind: 'ready', items: ['c', 'd'] });
  expect(o.waiting).toBe(false);
  expect(o.offer(5, 'e', 10)).toEqual({ kind: 'ready', items: ['e'] });
});

test('a retry of a delivered POST is done; a retry of a held one replaces it', () => {
  const o = order();
  o.offer(1, 'a', 10);
  expect(o.offer(1, 'a again', 10)).toEqual({ kind: 'done' });
  expect(o.offer(3, 'c', 10)).toEqual({ kind: 'held' });
  expect(o.offer(3, 'c again', 10)).toEqual({ kind: 'again', replaced: 'c' });
  expect(o.offer(2, 'b', 10)).toEqual({ kind: 'ready', items: ['b', 'c again'] });
});

test('a client cannot make it hold more than the window or the byte bound', () => {
  const o = order();
  expect(o.offer(5, 'too far', 1)).toMatchObject({ kind: 'refused' }); // next is 1, window 4: 1..4
  expect(o.offer(4, 'd', 60)).toEqual({ kind: 'held' });
  expect(o.offer(3, 'c', 50)).toMatchObject({ kind: 'refused' }); // 110 bytes > 100
  expect(o.offer(3, 'c', 40)).toEqual({ kind: 'held' });
  for (const bad of [0, -1, 1.5, NaN, 2 ** 60]) expect(o.offer(bad, 'x', 1)).toMatchObject({ kind: 'refused' });
  expect(o.drain().sort()).toEqual(['c', 'd']);
  expect(o.waiting).toBe(false);
  // Drained bytes are free again.
  expect(o.offer(3, 'c', 100)).toEqual({ kind: 'held' });
});
