import { describe, expect, test } from 'vitest';
import { WirefallError } from '../../src/protocol/errors';
import { Outbox } from '../../src/protocol/outbox';
import { seedOutbox, type Moved } from '../../src/share/seeding';

/*
 * wirefall/share starts a new leader's outbox from the old leader's unacknowledged sends
 * (src/share/seeding.ts); the core's outbox knows no seeding.
 */
const seeding = new WeakMap<Outbox, () => boolean>();
/** What the seeded path reported moving (`renumbered`), with the ack it was told. */
const movedBy = new WeakMap<Outbox, [Moved[], number]>();
const seed = (o: Outbox, acked: number, entries: { s: number; ev: string; payload: string }[], now: number) => {
  const s = seedOutbox(o, acked, entries, now, (moved, ack) => movedBy.set(o, [moved, ack]));
  seeding.set(o, s.seeded);
  return s.promises;
};
const seededNow = (o: Outbox) => seeding.get(o)?.() ?? false;
/**
 * The first resumed welcome's ack, as the client applies it: false when refused, else what moved
 * (`renumbered` is told only on the seeded path, with that ack).
 */
const settle = (o: Outbox, ack: number): Moved[] | false => {
  movedBy.delete(o);
  if (!o.ack(ack, 1)) return false;
  const told = movedBy.get(o);
  if (told) expect(told[1]).toBe(ack);
  return told?.[0] ?? [];
};

describe('an outbox seeded from another context (tab hand-over): the resumed welcome settles the numbers', () => {
  const big = { maxMessages: 20, maxBytes: 1000 };
  const msgs = (o: Outbox) => o.takeUnsent(1000, 9).map((f) => JSON.parse(f) as { s: number; d: unknown });
  const state = (p: Promise<void>) => Promise.race([p.then(() => 'acked', () => 'rejected'), new Promise((r) => setTimeout(() => r('pending'), 0))]);

  test('the server got a number no one recorded: what was pushed since moves past it', async () => {
    // The old writer wrote 4 and died before anyone recorded it; the restore knows 1..3 acked.
    const o = new Outbox(big);
    expect(seed(o, 3, [], 0)).toEqual([]);
    const y = o.push('a', '"y"'); // provisionally 4
    expect(o.next).toBe(5);
    expect(settle(o, 4)).toEqual([{ from: 4, to: 5 }]);
    expect(seededNow(o)).toBe(false);
    expect(o.acked).toBe(4);
    expect(await state(y)).toBe('pending'); // not taken for the server's 4
    expect(msgs(o)).toEqual([{ t: 'msg', s: 5, ev: 'a', d: 'y' }]);
    expect(o.next).toBe(6);
    o.ack(5, 2);
    expect(await state(y)).toBe('acked');
  });

  test('a hole in the restored numbers: renumbered contiguously when the server has neither', async () => {
    // Recorded: 5 (and 3 acked); 4 was written by the old writer or not, nobody knows.
    const o = new Outbox(big);
    const [five] = seed(o, 3, [{ s: 5, ev: 'a', payload: '5' }], 0);
    const z = o.push('a', '6'); // provisionally 6
    expect(settle(o, 3)).toEqual([{ from: 5, to: 4 }, { from: 6, to: 5 }]);
    expect(msgs(o).map((m) => [m.s, m.d])).toEqual([[4, 5], [5, 6]]);
    expect(await state(five!)).toBe('pending');
    o.ack(5, 2);
    expect([await state(five!), await state(z)]).toEqual(['acked', 'acked']);
  });

  test('a hole the server filled: restored entries at or below its ack are acknowledged, the rest keep running on', async () => {
    const o = new Outbox(big);
    const [five, six] = seed(o, 3, [{ s: 5, ev: 'a', payload: '5' }, { s: 6, ev: 'a', payload: '6' }], 0);
    const w = o.push('a', '7');
    expect(settle(o, 5)).toEqual([]); // 6 and 7 already follow 5
    expect([await state(five!), await state(six!), await state(w)]).toEqual(['acked', 'pending', 'pending']);
    expect(msgs(o).map((m) => m.s)).toEqual([6, 7]);
    // What is left is counted once: 6 and 7, one byte each (the acknowledged 5 is gone).
    expect([o.q.length, o.bytes]).toEqual([2, 2]);
  });

  test('nothing unknown: the restored numbers stand, and what the server had is acknowledged', async () => {
    const o = new Outbox(big);
    const [a, b] = seed(o, 2, [{ s: 3, ev: 'a', payload: '3' }, { s: 4, ev: 'a', payload: '4' }], 0);
    const c = o.push('a', '5');
    expect(settle(o, 3)).toEqual([]);
    expect([await state(a!), await state(b!), await state(c)]).toEqual(['acked', 'pending', 'pending']);
    expect(msgs(o).map((m) => [m.s, m.d])).toEqual([[4, 4], [5, 5]]);
  });

  test('an ack behind what was already acknowledged is refused; an outbox that was not restored treats an ack beyond what it wrote as a protocol error', () => {
    const r = new Outbox(big);
    seed(r, 3, [{ s: 4, ev: 'a', payload: '4' }], 0);
    expect(settle(r, 2)).toBe(false);
    const o = new Outbox(big);
    void o.push('a', '1');
    o.takeUnsent(1000, 0);
    expect(seededNow(o)).toBe(false);
    expect(settle(o, 2)).toBe(false);
    expect(settle(o, 1)).toEqual([]);
    expect(o.acked).toBe(1);
  });

  test('a lost session ends the restored numbering: restart renumbers from 1 as always', () => {
    const o = new Outbox(big);
    seed(o, 3, [{ s: 5, ev: 'a', payload: '5' }], 0);
    void o.push('a', '6');
    o.restart(new WirefallError('WF_SESSION_LOST', 'gone'));
    expect(seededNow(o)).toBe(false);
    expect(msgs(o).map((m) => [m.s, m.d])).toEqual([[1, 6]]);
  });
});
