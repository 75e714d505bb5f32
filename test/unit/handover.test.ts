import { describe, expect, test } from 'vitest';
import { isSessionState, keyHash } from '../../src/server/handover';
import { Outbox } from '../../src/protocol/outbox';
import { adoptOutbox, outboxSince, outboxState } from '../../src/server/outbox-state';

describe('a session as data (handover.ts)', () => {
  test('an outbox carries on elsewhere: same numbers, same unacknowledged messages, all resent', () => {
    const a = new Outbox({ maxMessages: 10, maxBytes: 1000 });
    void a.push('x', '1');
    void a.push('x', '2');
    void a.push('y', '"three"');
    a.takeUnsent(1000, 1);
    expect(a.ack(1, 2)).toBe(true);
    const state = outboxState(a);
    expect(state).toEqual({ next: 4, acked: 1, entries: [[2, 'x', '2'], [3, 'y', '"three"']] });

    const b = new Outbox({ maxMessages: 10, maxBytes: 1000 });
    adoptOutbox(b, JSON.parse(JSON.stringify(state)));
    expect(b.q.length).toBe(2);
    expect(b.bytes).toBe(8);
    expect(b.takeUnsent(1000, 3)).toEqual(['{"t":"msg","s":2,"ev":"x","d":2}', '{"t":"msg","s":3,"ev":"y","d":"three"}']);
    void b.push('z', 'null');
    expect(b.takeUnsent(1000, 4)).toEqual(['{"t":"msg","s":4,"ev":"z","d":null}']);
    expect(b.ack(0, 5)).toBe(true); // an old ack is no error
    expect(b.ack(4, 5)).toBe(true);
    expect(b.q.length).toBe(0);
  });

  test('what a durable store has not got yet: the messages from a number on', () => {
    const o = new Outbox({ maxMessages: 10, maxBytes: 1000 });
    expect(outboxSince(o, 1)).toEqual([]);
    for (const d of ['1', '2', '3']) void o.push('x', d);
    o.takeUnsent(1000, 1);
    expect(o.ack(1, 2)).toBe(true);
    expect(outboxSince(o, 3)).toEqual([[3, 'x', '3']]);
    expect(outboxSince(o, 1)).toEqual([[2, 'x', '2'], [3, 'x', '3']]);
    expect(outboxSince(o, 4)).toEqual([]);
  });

  test('the store keeps a hash of the resume key, never the key', () => {
    expect(keyHash('m2Qh')).toMatch(/^[0-9a-f]{64}$/);
    expect(keyHash('m2Qh')).not.toContain('m2Qh');
    expect(keyHash('a')).not.toBe(keyHash('b'));
  });

  test('a state from the store is checked before it is used', () => {
    const ok = { v: 1, id: 's', keyHash: 'h', identity: '"ann"', user: '"ann"', received: 3, outbox: { next: 1, acked: 0, entries: [] }, rooms: [] };
    expect(isSessionState(ok)).toBe(true);
    expect(isSessionState({ ...ok, v: 2 })).toBe(false);
    expect(isSessionState({ ...ok, received: '3' })).toBe(false);
    expect(isSessionState({ ...ok, outbox: null })).toBe(false);
    expect(isSessionState({ ...ok, outbox: { next: 2, acked: 0, entries: [[1, 'x', 2]] } })).toBe(false);
    expect(isSessionState({ ...ok, outbox: { next: 2, acked: 0, entries: [[1, 'x', '2']] } })).toBe(true);
    expect(isSessionState({ ...ok, rooms: [7] })).toBe(false);
    expect(isSessionState({ ...ok, fanout: { id: '17-0', node: 'n1', seq: 4 } })).toBe(true);
    expect(isSessionState({ ...ok, fanout: { id: '17-0', node: 'n1', seq: '4' } })).toBe(false);
    expect(isSessionState({ ...ok, fanout: { n1: 4 } })).toBe(false);
    expect(isSessionState({ ...ok, epoch: 3 })).toBe(true);
    expect(isSessionState({ ...ok, epoch: 'x' })).toBe(false);
    expect(isSessionState(null)).toBe(false);
  });
});
