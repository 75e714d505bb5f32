import { describe, expect, test } from 'vitest';
import { WirefallError } from '../../src/protocol/errors';
import { Outbox } from '../../src/protocol/outbox';
import { utf8Length } from '../../src/protocol/limits';

const limits = { maxMessages: 4, maxBytes: 100 };

describe('Outbox', () => {
  test('numbers messages from 1, writes them once, and settles them on a cumulative ack', async () => {
    const o = new Outbox(limits);
    o.group = 0; // a promise per message (groups: outbox-groups.test.ts)
    const p1 = o.push('a', '1');
    const p2 = o.push('b', '"two"');
    expect(o.takeUnsent(1000, 10)).toEqual(['{"t":"msg","s":1,"ev":"a","d":1}', '{"t":"msg","s":2,"ev":"b","d":"two"}']);
    expect(o.takeUnsent(1000, 11)).toEqual([]);
    expect(o.oldestInFlight()).toBe(10);
    expect(o.ack(1, 20)).toBe(true);
    await p1;
    expect(o.q.length).toBe(1);
    expect(o.ack(2, 21)).toBe(true);
    await p2;
    expect(o.q.length).toBe(0);
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
    expect(o.q.length).toBe(0);
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
