import { afterEach, beforeEach, expect, test, vi } from 'vitest';
import { connect } from '../../src/index';
import { share } from '../../src/share/index';
import { fakeTransports } from '../support/fake-transport';
import { crashableLocks, fakeChannels } from '../support/fake-tabs';

/*
 * A shared client's `whenWritable()` (every tab's, the leader's included) follows the leader's
 * backpressure events, not only the snapshots that state changes carry: the outbox fills and
 * drains while the connection stays open.
 */
beforeEach(() => void vi.useFakeTimers());
afterEach(() => void vi.useRealTimers());

/** The timers due within `ms`, and the channel hops they cause. */
const flush = async (ms = 0) => {
  await vi.advanceTimersByTimeAsync(ms);
  for (let i = 0; i < 6; i++) await vi.advanceTimersByTimeAsync(1);
};

async function tabs() {
  const channels = fakeChannels();
  const locks = crashableLocks();
  const t = fakeTransports();
  const [A, B] = ['A', 'B'].map((name) =>
    connect<{ client: { say: { text: string } }; server: Record<string, never> }>('http://h.test/wf', {
      share: share(),
      transports: ['ws'],
      transportFactories: { ws: t.factory },
      outbox: { highWaterBytes: 100 },
      platform: { locks, channel: channels.for(name), onLeave: () => () => {}, onWake: () => () => {}, random: () => 0.5 },
    }),
  );
  await flush(200);
  expect([A!.role, B!.role]).toEqual(['leader', 'follower']);
  t.last().greet().welcome();
  await flush();
  /** Five sends from B, past the high-water mark of the leader's outbox. */
  const fill = async () => {
    for (let i = 0; i < 5; i++) void B!.send('say', { text: 'y'.repeat(20) }).catch(() => {});
    await flush();
  };
  /** Whether each tab's whenWritable() has resolved after `ms`. */
  const writable = () => {
    const done = [false, false];
    [A!, B!].forEach((c, i) => void c.whenWritable().then(() => (done[i] = true)));
    return async () => (await flush(), done);
  };
  return { A: A!, B: B!, t, fill, writable };
}

test('every tab waits while the leader is over the high-water mark, and goes on when acks drain it', async () => {
  const { A, B, t, fill, writable } = await tabs();
  await fill();
  const w = writable();
  expect(await w()).toEqual([false, false]);
  t.last().receive({ t: 'ack', a: 5 });
  expect(await w()).toEqual([true, true]);
  [B, A].forEach((c) => c.close());
});

test('high when the state last changed, drained since without a state change: no tab waits for ever', async () => {
  const { A, B, t, fill, writable } = await tabs();
  await fill();
  t.last().fail({ code: 'WF_DISCONNECTED', message: 'cut' }); // the snapshot of `reconnecting` says high
  await flush(5_000);
  t.last().greet().welcome({ resumed: true, ack: 0 }); // and so does `open`'s
  await flush();
  expect(A.state).toBe('open');
  const w = writable();
  t.last().receive({ t: 'ack', a: 5 });
  expect(await w()).toEqual([true, true]);
  [B, A].forEach((c) => c.close());
});

test('after close(), whenWritable() resolves at once', async () => {
  const { A, B, t, fill } = await tabs();
  await fill();
  t.last().fail({ code: 'WF_DISCONNECTED', message: 'cut' }); // B's last snapshot says high
  await flush();
  [B, A].forEach((c) => c.close());
  let done = false;
  void B.whenWritable().then(() => (done = true));
  await flush();
  expect(done).toBe(true);
});
