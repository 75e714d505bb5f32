import { expect, test } from 'vitest';
import { WirefallError } from '../../src/protocol/errors';
import { Outbox } from '../../src/protocol/outbox';
import { holdLast } from '../../src/share/hold';

/*
 * wirefall/share holds a leader's send until the sending tab confirmed its number
 * (src/share/hold.ts): the outbox writes nothing from the first held entry on.
 */
const big = { maxMessages: 100, maxBytes: 10_000 };
const seqs = (frames: string[]) => frames.map((t) => JSON.parse(t).s as number);

test('a held entry is not written, nor anything after it, until released (then wake is called once)', () => {
  const o = new Outbox(big);
  o.group = 0; // as src/share's tap sets it
  void o.push('a', '1');
  void o.push('b', '2');
  let woken = 0;
  const release = holdLast(o, () => woken++);
  void o.push('c', '3');
  expect(seqs(o.takeUnsent(1000, 0))).toEqual([1]);
  expect(o.hasUnsent).toBe(false);
  expect(o.takeUnsent(1000, 0)).toEqual([]);
  release();
  release();
  expect(woken).toBe(1);
  expect(o.hasUnsent).toBe(true);
  expect(seqs(o.takeUnsent(1000, 0))).toEqual([2, 3]);
});

test('a held message holds back the group it joined, and the outbox makes no groups after a hold', () => {
  const o = new Outbox(big);
  const p = o.push('m', '1');
  expect(o.push('m', '2')).toBe(p);
  const release = holdLast(o, () => {});
  expect(o.takeUnsent(1000, 0)).toEqual([]);
  expect(o.push('m', '3')).not.toBe(p);
  release();
  expect(seqs(o.takeUnsent(1000, 0))).toEqual([1, 2, 3]);
});

test('holds released out of order: the first held one still holds everything after it', () => {
  const o = new Outbox(big);
  void o.push('m', '1');
  const first = holdLast(o, () => {});
  void o.push('m', '2');
  const second = holdLast(o, () => {});
  void o.push('m', '3');
  second();
  expect(o.takeUnsent(1000, 0)).toEqual([]);
  first();
  expect(seqs(o.takeUnsent(1000, 0))).toEqual([1, 2, 3]);
});

test('a held send that a lost session renumbers stays held under its new number', () => {
  const o = new Outbox(big);
  void o.push('m', '1');
  o.takeUnsent(1000, 0); // 1 written: lost with the session
  void o.push('m', '2');
  const release = holdLast(o, () => {});
  void o.push('m', '3');
  o.restart(new WirefallError('WF_SESSION_LOST', 'gone'));
  // 2 and 3 are now 1 and 2; the hold is on the first of them.
  expect(o.takeUnsent(1000, 0)).toEqual([]);
  release();
  expect(seqs(o.takeUnsent(1000, 0))).toEqual([1, 2]);
});
