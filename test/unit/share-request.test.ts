import { afterEach, beforeEach, expect, test, vi } from 'vitest';
import { connect, type WirefallError } from '../../src/index';
import { share } from '../../src/share/index';
import { fakeTransports } from '../support/fake-transport';
import { crashableLocks, fakeChannels } from '../support/fake-tabs';

/*
 * `request()` is part of the Client a shared `connect` returns (its type says so), but it is not
 * relayed between tabs (docs/sharing.md, "Limits"): it must reject with a WirefallError in every
 * tab, not throw a TypeError, and a tab's `call('request')` must not reach the leader's client.
 */
beforeEach(() => void vi.useFakeTimers());
afterEach(() => void vi.useRealTimers());

test('request() on a shared client rejects with WF_INVALID in the leader and in a follower, and is not relayed', async () => {
  const channels = fakeChannels();
  const locks = crashableLocks();
  const t = fakeTransports();
  const [A, B] = ['A', 'B'].map((name) =>
    connect<{ client: {}; server: {}; rpc: { add: [[number, number], number] } }>('http://h.test/wf', {
      share: share(),
      transports: ['ws'],
      transportFactories: { ws: t.factory },
      platform: { locks, channel: channels.for(name), onLeave: () => () => {}, onWake: () => () => {}, random: () => 0.5 },
    }),
  );
  await vi.advanceTimersByTimeAsync(200);
  t.last().greet().welcome();
  const outcomes = [A!, B!].map((c) => c.request('add', [1, 2]).catch((e: WirefallError) => e.code));
  const relayed = (B as unknown as { call(m: string, a: unknown[]): Promise<unknown> }).call('request', ['add', [1, 2]]).catch((e: WirefallError) => e.code);
  for (let i = 0; i < 6; i++) await vi.advanceTimersByTimeAsync(1);
  expect(await Promise.all([...outcomes, relayed])).toEqual(['WF_INVALID', 'WF_INVALID', 'WF_INVALID']);
  expect(t.last().frames.filter((f) => f.t === 'msg')).toEqual([]);
  [B!, A!].forEach((c) => c.close());
});
