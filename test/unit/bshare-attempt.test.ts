import { afterEach, expect, test, vi } from 'vitest';
import { share } from '../../src/share/index';
import { connect } from '../../src/index';
import type { AttemptRecord } from '../../src/core/attempt';
import { fakeTransports } from '../support/fake-transport';
import { crashableLocks, fakeChannels } from '../support/fake-tabs';

/*
 * A shared client's events describe the shared connection in every tab (docs/sharing.md), the
 * `attempt` event included: it never fired in any tab, leader or follower, and a follower's
 * `attempts` only moved when the state did (failed attempts while reconnecting went unseen).
 */
afterEach(() => void vi.useRealTimers());
const flush = async (ms = 0) => {
  await vi.advanceTimersByTimeAsync(ms);
  for (let i = 0; i < 6; i++) await vi.advanceTimersByTimeAsync(1);
};

test('every tab hears each attempt of the leader\'s client, and its `attempts` follow, while the state stays the same', async () => {
  vi.useFakeTimers();
  const channels = fakeChannels();
  const locks = crashableLocks();
  const heard: string[] = [];
  const tabs = ['A', 'B'].map((name) => {
    const t = fakeTransports();
    const c = connect('http://h.test/wf', {
      share: share(),
      transports: ['ws'],
      transportFactories: { ws: t.factory },
      reconnect: { base: 10, max: 10 },
      platform: { locks, channel: channels.for(name), onLeave: () => () => {}, onWake: () => () => {}, random: () => 0.5 },
    });
    c.on('attempt', (a: AttemptRecord) => void heard.push(`${name} ${a.rung} ${a.outcome} ${a.reason ?? ''}`.trim()));
    return { c, t };
  });
  await flush(200);
  const [A, B] = tabs;
  A!.t.last().greet().welcome();
  await flush();
  expect(heard).toEqual(['A ws verified', 'B ws verified']);
  A!.t.last().fail({ code: 'WF_NETWORK', message: 'cut' } as never);
  await flush(50);
  expect(B!.c.state).toBe('reconnecting');
  A!.t.last().fail({ code: 'WF_NETWORK', message: 'refused' } as never);
  await flush();
  expect(B!.c.state).toBe('reconnecting');
  expect(heard.slice(2)).toEqual(['A ws failed WF_NETWORK', 'B ws failed WF_NETWORK']);
  expect(B!.c.attempts.map((a) => a.outcome)).toEqual(['verified', 'failed']);
  expect(A!.c.attempts).toEqual(B!.c.attempts);
  tabs.forEach((x) => x.c.close());
});
