import { afterEach, expect, test, vi } from 'vitest';
import { share } from '../../src/share/index';
import { connect } from '../../src/index';
import { fakeTransports } from '../support/fake-transport';
import { crashableLocks, fakeChannels } from '../support/fake-tabs';

/*
 * A follower's call reaches the leader as a structured clone. Data the clone refuses (a function,
 * a symbol) used to throw inside the post, silently: the send was never made and its promise
 * never settled (and every new leader was offered it again). It now rejects as the leader's own
 * client rejects such data: WF_INVALID, naming the part that cannot be sent.
 */
afterEach(() => void vi.useRealTimers());
const flush = async (ms = 0) => {
  await vi.advanceTimersByTimeAsync(ms);
  for (let i = 0; i < 6; i++) await vi.advanceTimersByTimeAsync(1);
};

test('a follower\'s send of data that cannot be cloned rejects like the leader\'s: WF_INVALID naming the part; the next send goes', async () => {
  vi.useFakeTimers();
  const channels = fakeChannels();
  const locks = crashableLocks();
  const tabs = ['A', 'B'].map((name) => {
    const t = fakeTransports();
    return {
      t,
      c: connect<{ client: { say: unknown }; server: Record<string, never> }>('http://h.test/wf', {
        share: share(),
        transports: ['ws'],
        transportFactories: { ws: t.factory },
        platform: { locks, channel: channels.for(name), onLeave: () => () => {}, onWake: () => () => {}, random: () => 0.5 },
      }),
    };
  });
  await flush(200);
  const [A, B] = tabs;
  expect(B!.c.role).toBe('follower');
  A!.t.last().greet().welcome();
  await flush();
  const bad = [{ f: () => 1 }, { s: Symbol('x') }];
  const outcomes = [A!.c, B!.c].flatMap((c) => bad.map((d) => c.send('say', d as never).then(() => 'sent', (e: { code: string; message: string }) => `${e.code} ${e.message}`)));
  const ok = B!.c.send('say', { n: 1 });
  await flush();
  const want = ['WF_INVALID "say" data.f: function cannot be sent (JSON values and Uint8Array/ArrayBuffer only)', 'WF_INVALID "say" data.s: symbol cannot be sent (JSON values and Uint8Array/ArrayBuffer only)'];
  expect(await Promise.all(outcomes)).toEqual([...want, ...want]);
  A!.t.last().receive({ t: 'ack', a: 1 });
  await flush();
  await expect(ok).resolves.toBeUndefined();
  expect(B!.c.buffered.messages).toBe(0);
  tabs.forEach((x) => x.c.close());
});
