/**
 * The ordered uplink's byte bound (protocol 3, docs/security.md: 4 bodies held per link) holds
 * for retries too: a POST held out of order may come again (its first try failed), and what is
 * held then is the retry's body.
 */
import { expect, test } from 'vitest';
import { UplinkOrder } from '../../src/server/uplink-order';

test('a held POST resent with a larger body counts at its new size', () => {
  const o = new UplinkOrder<string>({ window: 8, maxBytes: 100 });
  expect(o.offer(2, 'small', 1)).toEqual({ kind: 'held' });
  // Resent large: 95 bytes held now. Counted at the first size (1), every number of the window
  // could hold a whole body this way (7 × 95 here), past the bound of 100.
  expect(o.offer(2, 'large', 95)).toEqual({ kind: 'again', replaced: 'small' });
  expect(o.offer(3, 'more', 80)).toMatchObject({ kind: 'refused' });
  expect(o.offer(2, 'too large', 101)).toMatchObject({ kind: 'refused' });
  // Resent smaller: the bytes it freed may be held again.
  expect(o.offer(2, 'small again', 5)).toEqual({ kind: 'again', replaced: 'large' });
  expect(o.offer(3, 'more', 80)).toEqual({ kind: 'held' });
  expect(o.offer(1, 'first', 50)).toEqual({ kind: 'ready', items: ['first', 'small again', 'more'] });
  expect(o.waiting).toBe(false);
});
