import { describe, expect, test } from 'vitest';
import { WirefallError } from '../../src/protocol/errors';
import { Outbox } from '../../src/protocol/outbox';
import { utf8Length } from '../../src/protocol/limits';

const limits = { maxMessages: 4, maxBytes: 100 };

describe('Outbox', () => {
  test('a held entry is not written, nor anything after it, until released (then wake is called once)', () => {
    const o = new Outbox({ maxMessages: 100, maxBytes: 10_000 });
    void o.push('a', '1');
    void o.push('b', '2');
    let woken = 0;
    const release = o.hold(() => woken++);
    void o.push('c', '3');
    expect(o.takeUnsent(1000, 0).map((t) => JSON.parse(t).s)).toEqual([1]);
    expect(o.hasUnsent).toBe(false);
    expect(o.takeUnsent(1000, 0)).toEqual([]);
    release();
    release();
    expect(woken).toBe(1);
    expect(o.hasUnsent).toBe(true);
    expect(o.takeUnsent(1000, 0).map((t) => JSON.parse(t).s)).toEqual([2, 3]);
  });

  test('numbers messages from 1, writes them once, and settles them on a cumulative ack', async () => {
    const o = new Outbox(limits);
    const p1 = o.push('a', '1');
    const p2 = o.push('b', '"two"');
    expect(o.takeUnsent(1000, 10)).toEqual(['{"t":"msg","s":1,"ev":"a","d":1}', '{"t":"msg","s":2,"ev":"b","d":"two"}']);
    expect(o.takeUnsent(1000, 11)).toEqual([]);
    expect(o.oldestInFlight()).toBe(10);
    expect(o.ack(1, 20)).toBe(true);
    await p1;
    expect(o.size).toBe(1);
    expect(o.ack(2, 21)).toBe(true);
    await p2;
    expect(o.size).toBe(0);
    expect(o.bytes).toBe(0);
  });

  test('refuses an ack for something never sent', () => {
    const o = new Outbox(limits);
    void o.push('a', '1');
    expect(o.ack(5, 1)).toBe(false);
  });

  test('rewind writes every unacknowledged message again, in order', () => {
    const o = new Outbox(limits);
    void o.push('a', '1');
    void o.push('a', '2');
    void o.push('a', '3');
    o.takeUnsent(1000, 1);
    o.ack(1, 2);
    o.rewind();
    expect(o.takeUnsent(1000, 3).map((t) => JSON.parse(t).s)).toEqual([2, 3]);
  });

  test('batches stop at the byte budget but always carry at least one message', () => {
    const o = new Outbox({ maxMessages: 10, maxBytes: 1000 });
    for (let i = 0; i < 3; i++) void o.push('a', `"${'x'.repeat(40)}"`);
    expect(o.takeUnsent(50, 0)).toHaveLength(1);
    expect(o.takeUnsent(100, 0)).toHaveLength(2);
    void o.push('a', `"${'y'.repeat(200)}"`);
  });

  test('is bounded in messages and bytes, rejecting with WF_OUTBOX_FULL', async () => {
    const o = new Outbox(limits);
    for (let i = 0; i < 4; i++) void o.push('a', '1');
    await expect(o.push('a', '1')).rejects.toMatchObject({ code: 'WF_OUTBOX_FULL' });
    const small = new Outbox(limits);
    await expect(small.push('a', `"${'z'.repeat(120)}"`)).rejects.toBeInstanceOf(WirefallError);
  });

  test('restart rejects what the peer may have seen and renumbers what it never saw', async () => {
    const o = new Outbox({ maxMessages: 10, maxBytes: 1000 });
    const seen = o.push('a', '1');
    o.takeUnsent(1000, 0);
    const unseen = o.push('a', '2');
    const lost = o.restart(new WirefallError('WF_SESSION_LOST', 'gone'));
    expect(lost.map((e) => e.payload)).toEqual(['1']);
    await expect(seen).rejects.toMatchObject({ code: 'WF_SESSION_LOST' });
    expect(o.takeUnsent(1000, 0)).toEqual(['{"t":"msg","s":1,"ev":"a","d":2}']);
    o.ack(1, 1);
    await unseen;
  });

  test('fire-and-forget entries allocate no promise and settle quietly, acked or rejected', () => {
    const o = new Outbox(limits);
    expect(o.push('a', '1', false)).toBeUndefined();
    expect(o.push('a', '2', false)).toBeUndefined();
    o.takeUnsent(1000, 0);
    expect(o.ack(1, 1)).toBe(true);
    o.rejectAll(new WirefallError('WF_CLOSED', 'x')); // nothing to reject, nothing thrown
    expect(o.size).toBe(0);
  });

  test('utf8Length counts bytes, not UTF-16 units', () => {
    expect(utf8Length('aé€😀')).toBe(1 + 2 + 3 + 4);
    expect(utf8Length('😀')).toBe(new TextEncoder().encode('😀').length);
    // Past the 4 KiB it encodes at a time, with characters across every boundary; lone
    // surrogates count as the U+FFFD they are sent as.
    for (const s of ['x'.repeat(5000), 'é'.repeat(5000), 'a€'.repeat(3000), '😀'.repeat(3000), `a${'😀'.repeat(2047)}`, 'ab\ud800c\udc00', '\ud83d'.repeat(2100), '']) {
      expect(utf8Length(s)).toBe(new TextEncoder().encode(s).length);
    }
  });
});

describe('Outbox restored from another context (tab hand-over): the resumed welcome settles the numbers', () => {
  const big = { maxMessages: 20, maxBytes: 1000 };
  const msgs = (o: Outbox) => o.takeUnsent(1000, 9).map((f) => JSON.parse(f) as { s: number; d: unknown });
  const state = (p: Promise<void>) => Promise.race([p.then(() => 'acked', () => 'rejected'), new Promise((r) => setTimeout(() => r('pending'), 0))]);

  test('the server got a number no one recorded: what was pushed since moves past it', async () => {
    // The old writer wrote 4 and died before anyone recorded it; the restore knows 1..3 acked.
    const o = new Outbox(big);
    expect(o.restore(3, [], 0)).toEqual([]);
    const y = o.push('a', '"y"'); // provisionally 4
    expect(o.next).toBe(5);
    expect(o.continueAfter(4, 1)).toEqual([{ from: 4, to: 5 }]);
    expect(o.seeded).toBe(false);
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
    const [five] = o.restore(3, [{ s: 5, ev: 'a', payload: '5' }], 0);
    const z = o.push('a', '6'); // provisionally 6
    expect(o.continueAfter(3, 1)).toEqual([{ from: 5, to: 4 }, { from: 6, to: 5 }]);
    expect(msgs(o).map((m) => [m.s, m.d])).toEqual([[4, 5], [5, 6]]);
    expect(await state(five!)).toBe('pending');
    o.ack(5, 2);
    expect([await state(five!), await state(z)]).toEqual(['acked', 'acked']);
  });

  test('a hole the server filled: restored entries at or below its ack are acknowledged, the rest keep running on', async () => {
    const o = new Outbox(big);
    const [five, six] = o.restore(3, [{ s: 5, ev: 'a', payload: '5' }, { s: 6, ev: 'a', payload: '6' }], 0);
    const w = o.push('a', '7');
    expect(o.continueAfter(5, 1)).toEqual([]); // 6 and 7 already follow 5
    expect([await state(five!), await state(six!), await state(w)]).toEqual(['acked', 'pending', 'pending']);
    expect(msgs(o).map((m) => m.s)).toEqual([6, 7]);
    // What is left is counted once: 6 and 7, one byte each (the acknowledged 5 is gone).
    expect([o.size, o.bytes]).toEqual([2, 2]);
  });

  test('nothing unknown: the restored numbers stand, and what the server had is acknowledged', async () => {
    const o = new Outbox(big);
    const [a, b] = o.restore(2, [{ s: 3, ev: 'a', payload: '3' }, { s: 4, ev: 'a', payload: '4' }], 0);
    const c = o.push('a', '5');
    expect(o.continueAfter(3, 1)).toEqual([]);
    expect([await state(a!), await state(b!), await state(c)]).toEqual(['acked', 'pending', 'pending']);
    expect(msgs(o).map((m) => [m.s, m.d])).toEqual([[4, 4], [5, 5]]);
  });

  test('an ack behind what was already acknowledged is refused; an outbox that was not restored treats an ack beyond what it wrote as a protocol error', () => {
    const r = new Outbox(big);
    r.restore(3, [{ s: 4, ev: 'a', payload: '4' }], 0);
    expect(r.continueAfter(2, 1)).toBe(false);
    const o = new Outbox(big);
    void o.push('a', '1');
    o.takeUnsent(1000, 0);
    expect(o.seeded).toBe(false);
    expect(o.continueAfter(2, 1)).toBe(false);
    expect(o.continueAfter(1, 1)).toEqual([]);
    expect(o.acked).toBe(1);
  });

  test('a lost session ends the restored numbering: restart renumbers from 1 as always', () => {
    const o = new Outbox(big);
    o.restore(3, [{ s: 5, ev: 'a', payload: '5' }], 0);
    void o.push('a', '6');
    o.restart(new WirefallError('WF_SESSION_LOST', 'gone'));
    expect(o.seeded).toBe(false);
    expect(msgs(o).map((m) => [m.s, m.d])).toEqual([[1, 6]]);
  });
});
