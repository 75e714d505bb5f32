import { describe, expect, test, vi } from 'vitest';
import { Outbox } from '../../src/protocol/outbox';
import { NEW } from '../../src/protocol/inbox';
import { outboxState } from '../../src/server/outbox-state';
import { Durable, GatedInbox } from '../../src/server/durable';
import type { RecordDelta, SessionRecords, SessionState } from '../../src/server/handover';
import { decodeEntry, encodeEntry, idAfter } from '../../src/server/store/redis-fanout';
import { Follow } from '../../src/server/store/redis-follows';

/*
 * The gating of a durable session (durable.ts) against a records object that answers when the
 * test says so: what the client may see (acks, messages) follows what was committed. Multi-node
 * behaviour against a real Redis is proved in test/integration/handover*.test.ts.
 */

type Pending = { resolve: (r: 'ok' | 'fenced' | 'missing') => void; reject: (e: Error) => void; delta: RecordDelta };

function setup(holdPuts = false) {
  const inbox = new GatedInbox();
  const outbox = new Outbox({ maxMessages: 100, maxBytes: 100_000 });
  const commits: Pending[] = [];
  const puts: SessionState[] = [];
  /** Whole writes the test answers itself (with `holdPuts`). */
  const heldPuts: ((ok: boolean) => void)[] = [];
  const staged: string[] = [];
  const published: string[] = [];
  let fenced = 0, released = 0;
  const records: SessionRecords = {
    put: (s) => (puts.push(s), holdPuts && puts.length > 1 ? new Promise((resolve) => heldPuts.push(resolve)) : Promise.resolve(true)),
    commit: (_id, _epoch, delta) => new Promise((resolve, reject) => commits.push({ resolve, reject, delta })),
    drop: () => {},
    stage: (entries) => (staged.push(...entries.map((e) => e.payload)), { channels: entries.map(() => 'c'), texts: entries.map((e) => e.payload) }),
    publish: (entries) => void published.push(...entries.map((e) => e.payload)),
    position: () => undefined,
  };
  const state = (): SessionState => ({ v: 1, id: 's', keyHash: 'h', identity: 'i', user: '"u"', received: inbox.received, outbox: outboxState(outbox), rooms: [] });
  const d = new Durable({ id: 's', records, inbox, outbox, ttlMs: 60_000, logger: { debug() {}, info() {}, warn() {}, error() {} }, state, rooms: () => [], released: () => released++, fenced: () => fenced++ });
  return { inbox, outbox, d, commits, puts, heldPuts, staged, published, counts: () => ({ fenced, released }) };
}
const tick = () => new Promise((r) => setTimeout(r, 0));

describe('a durable session (durable.ts)', () => {
  test('acks and messages wait for their commit; one commit per tick', async () => {
    const { inbox, outbox, d, commits, puts } = setup();
    await d.create();
    expect(puts).toHaveLength(1);
    expect(inbox.accept(1)).toBe(NEW);
    void outbox.push('echo', '1', false);
    void outbox.push('echo', '2', false);
    d.touch();
    d.touch();
    // Not committed yet: nothing acknowledged, nothing written.
    expect(inbox.takeAck()).toBeUndefined();
    expect(outbox.takeUnsent(1000, 0)).toEqual([]);
    await tick();
    expect(commits).toHaveLength(1);
    expect(commits[0]!.delta).toMatchObject({ received: 1, next: 3, acked: 0, entries: [[1, 'echo', '1'], [2, 'echo', '2']] });
    commits[0]!.resolve('ok');
    await tick();
    expect(inbox.takeAck()).toBe(1);
    expect(outbox.takeUnsent(1000, 0)).toHaveLength(2);
  });

  test('a commit refused for a stale epoch ends the session here; a failing store ungates it and writes it whole later', async () => {
    const a = setup();
    await a.d.create();
    a.inbox.accept(1);
    a.d.touch();
    await tick();
    a.commits[0]!.resolve('fenced');
    await tick();
    expect(a.counts().fenced).toBe(1);
    expect(a.inbox.takeAck()).toBeUndefined(); // never acknowledged: the new owner handles it

    const b = setup();
    await b.d.create();
    b.inbox.accept(1);
    b.d.touch();
    await tick();
    b.commits[0]!.reject(new Error('Redis is not connected'));
    await tick();
    expect(b.inbox.takeAck()).toBe(1); // from memory, as without a durable store
    b.d.end(true);
  });

  test('writing itself whole again after the store failed: what happens during that write waits for a commit after it', async () => {
    // Fake timers: the retry is due a second after the failure, and a real sleep of 900 ms on a
    // loaded machine could wake after it (seen once in a full unit run).
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
    const tick = () => vi.advanceTimersByTimeAsync(0);
    try {
      const { inbox, outbox, d, commits, puts, heldPuts } = setup(true);
      await d.create();
      inbox.accept(1);
      d.touch();
      await tick();
      commits[0]!.reject(new Error('Redis is not connected'));
      await tick();
      expect(inbox.takeAck()).toBe(1); // degraded: from memory
      // The session retries its whole write a second later, not before.
      await vi.advanceTimersByTimeAsync(900);
      expect(puts).toHaveLength(1);
      await vi.advanceTimersByTimeAsync(200);
      expect(puts).toHaveLength(2);
      expect(puts[1]!.received).toBe(1);
      // While that write is in flight, a message arrives and one is queued: not in the snapshot, so
      // neither may reach the client before a commit holds them (a kill -9 would lose them silently).
      inbox.accept(2);
      void outbox.push('echo', '1', false);
      d.touch();
      await tick();
      expect(inbox.takeAck()).toBeUndefined();
      expect(outbox.takeUnsent(1000, 0)).toEqual([]);
      heldPuts[0]!(true);
      await tick();
      await tick();
      expect(commits.at(-1)!.delta).toMatchObject({ received: 2, next: 2, entries: [[1, 'echo', '1']] });
      commits.at(-1)!.resolve('ok');
      await tick();
      expect(inbox.takeAck()).toBe(2);
      expect(outbox.takeUnsent(1000, 0)).toHaveLength(1);
      d.end(true);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('a durable session after a store failure', () => {
  test('the retry timer writes the session whole even when it fires before Date.now() says a second passed', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
    const clock = vi.spyOn(Date, 'now').mockReturnValue(10_000);
    try {
      const { inbox, d, commits, puts } = setup();
      await d.create();
      inbox.accept(1);
      d.touch();
      await vi.advanceTimersByTimeAsync(0);
      commits[0]!.reject(new Error('Redis is not connected'));
      await vi.advanceTimersByTimeAsync(0);
      expect(puts).toHaveLength(1);
      // libuv's timer fires against its cached loop time: a millisecond early by the wall clock.
      clock.mockReturnValue(10_999);
      await vi.advanceTimersByTimeAsync(1000);
      expect(puts).toHaveLength(2);
      expect(puts[1]!.received).toBe(1);
      d.end(true);
    } finally {
      clock.mockRestore();
      vi.useRealTimers();
    }
  });
});

describe('fan-out from a durable session\'s handlers', () => {
  test('goes out with the commit of the batch that published it; a fenced batch publishes nothing; a session that moves on publishes what is left', async () => {
    const a = setup();
    await a.d.create();
    a.inbox.accept(1);
    Durable.during(a.d, () => a.d.stage({ type: 'said', payload: '1' }));
    expect(a.staged).toEqual([]); // not before the end of the tick
    await tick();
    expect(a.staged).toEqual(['1']);
    expect(a.commits[0]!.delta.fanout).toEqual({ channels: ['c'], texts: ['1'] });
    a.d.stage({ type: 'said', payload: '2' }); // while that commit is in flight: waits for the next
    a.commits[0]!.resolve('fenced');
    await tick();
    expect(a.staged).toEqual(['1']);
    a.d.end(true);
    expect(a.published).toEqual([]);

    const b = setup();
    await b.d.create();
    b.d.stage({ type: 'said', payload: '3' });
    b.d.end(true); // handed over in the same tick: its state counts the batch as handled
    expect(b.published).toEqual(['3']);
    expect(Durable.current).toBeUndefined();
  });
});

describe('the fan-out log (redis-fanout.ts)', () => {
  test('ids order by time, then sequence', () => {
    expect(idAfter('2-0', '1-5')).toBe(true);
    expect(idAfter('1-10', '1-9')).toBe(true);
    expect(idAfter('1-9', '1-10')).toBe(false);
    expect(idAfter('1-0', '')).toBe(true);
    expect(idAfter('', '1-0')).toBe(false);
  });

  test('an entry survives the trip, bytes encoding and room included', () => {
    const text = encodeEntry('n1', 7, { room: 'r', type: 't', payload: '{"a":1}', e: 'b64', except: 'x' });
    expect(decodeEntry(text, '5-0')).toEqual({ room: 'r', type: 't', payload: '{"a":1}', e: 'b64', except: 'x', origin: { node: 'n1', seq: 7 }, id: '5-0' });
    expect(decodeEntry('not json\n{}', '5-0')).toBeUndefined();
  });

  test('a moved session skips what its old node delivered and what this node delivered itself', () => {
    const f = new Follow({ id: '10-0', node: 'old', seq: 4 }, 'me', '13-1');
    f.hold({ type: 't', payload: '', origin: { node: 'me', seq: 21 } }); // delivered here while it caught up
    expect(f.had({ type: 't', payload: '', origin: { node: 'old', seq: 4 }, id: '12-0' }, true)).toBe(true); // delivered at old before the log had it
    expect(f.had({ type: 't', payload: '', origin: { node: 'old', seq: 5 }, id: '12-1' }, true)).toBe(false);
    expect(f.had({ type: 't', payload: '', origin: { node: 'me', seq: 21 }, id: '13-0' }, true)).toBe(true); // this node's, held here
    expect(f.had({ type: 't', payload: '', origin: { node: 'me', seq: 20 }, id: '13-1' }, true)).toBe(false); // before it arrived
    expect(f.had({ type: 't', payload: '', origin: { node: 'x', seq: 1 }, id: '9-0' }, false)).toBe(true); // behind the position
    expect(f.had({ type: 't', payload: '', origin: { node: 'x', seq: 2 }, id: '11-0' }, false)).toBe(false);
  });
});
