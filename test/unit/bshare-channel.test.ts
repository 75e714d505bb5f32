import { afterEach, describe, expect, test, vi } from 'vitest';
import { share } from '../../src/share/index';
import { connect } from '../../src/index';
import { fakeTransports } from '../support/fake-transport';
import { crashableLocks, fakeChannels } from '../support/fake-tabs';
import { isTabMessage } from '../../src/share/tab-check';

/*
 * Any script of the origin can post on the tabs' BroadcastChannel: a tab of another app version,
 * an extension, a bug. What is not a tab message of this version is ignored with a warning; it
 * neither throws in a tab nor leaves a wrong type in its state, and the session carries on.
 */
type Api = { client: { say: { n: number } }; server: { news: { n: number } } };

afterEach(() => void vi.useRealTimers());
const flush = async (ms = 0) => {
  await vi.advanceTimersByTimeAsync(ms);
  for (let i = 0; i < 6; i++) await vi.advanceTimersByTimeAsync(1);
};

async function start(options: { maxMessages?: number; maxBytes?: number } = {}, lead = true) {
  vi.useFakeTimers();
  const channels = fakeChannels();
  const locks = crashableLocks();
  // Without `lead`, someone else holds the lock and never serves: no leader, ever.
  if (!lead) void locks.request('wirefall:http://h.test/wf', {}, () => new Promise(() => {}));
  const warnings: string[] = [];
  const tabs = ['A', 'B'].map((name) => {
    const t = fakeTransports();
    const c = connect<Api>('http://h.test/wf', {
      share: share(),
      transports: ['ws'],
      transportFactories: { ws: t.factory },
      outbox: options,
      logger: { warn: (m) => void warnings.push(`${name}: ${m}`) },
      platform: { locks, channel: channels.for(name), onLeave: () => () => {}, onWake: () => () => {}, random: () => 0.5 },
    });
    return { name, c, t };
  });
  await flush(200);
  const rogue = channels.for('rogue')('wirefall:http://h.test/wf');
  return { tabs, warnings, rogue };
}

const forged = (tab: string): unknown[] => [
  null,
  'hello',
  42,
  { t: 'nope' },
  { t: 'toString' },
  { t: 'msg', s: '9', ev: 'news', d: { n: 0 } }, // a string number would compare as text for ever
  { t: 'msg', s: -1, ev: 'news' },
  { t: 'done', to: tab, id: 1, ok: false }, // no error: rejecting would throw
  { t: 'assigned', e: null },
  { t: 'assigned', e: { s: 1, ev: 'say', payload: {}, from: 'x', id: 1 } },
  { t: 'snap', to: tab, leader: 'x', snap: { state: 'open' }, received: 0, mirror: 5 },
  { t: 'synced', from: 'x', to: tab, received: 0, mirror: { acked: 0, next: 1, entries: [null] } },
  { t: 'event', name: 'error', args: [] },
  { t: 'renumbered', moved: 'all', ack: 1 },
  { t: 'leader', tab: 7, seeded: [] },
  { t: 'call', from: 'x', id: 1, method: 'send' }, // no args
  { t: 'state', snap: { state: 'bogus', rung: null, attempts: [], high: false } },
  { t: 'attempt', a: null, attempts: [] },
];

describe('the tab channel: foreign and malformed messages', () => {
  test('the real messages pass the check; every forged one is refused', () => {
    expect(forged('B').filter(isTabMessage)).toEqual([]);
    expect(isTabMessage({ t: 'done', to: 'B', id: 1, s: 2, ok: false, error: { code: 'WF_CLOSED', message: 'x' } })).toBe(true);
    expect(isTabMessage({ t: 'event', name: 'backpressure', args: [true, 10] })).toBe(true);
    expect(isTabMessage({ t: 'renumber' })).toBe(true);
  });

  test('ignored with a warning in every tab; nothing throws, and sends and server messages carry on', async () => {
    const { tabs, warnings, rogue } = await start();
    const [A, B] = tabs;
    expect([A!.c.role, B!.c.role]).toEqual(['leader', 'follower']);
    A!.t.last().greet().welcome();
    await flush();
    const heard: number[] = [];
    B!.c.subscribe('news', (d) => void heard.push(d.n));
    const sent = B!.c.send('say', { n: 1 });
    await flush();
    for (const m of forged((B!.c as unknown as { tab: string }).tab)) rogue.postMessage(m);
    await flush();
    // Each tab heard each forged message (the sender does not): all ignored, each reported.
    expect(warnings.filter((w) => w.startsWith('B:'))).toHaveLength(forged('').length);
    expect(warnings.filter((w) => w.startsWith('A:'))).toHaveLength(forged('').length);
    expect(warnings[0]).toMatch(/\[wirefall\] ignored a message on the tab channel/);
    A!.t.last().receive({ t: 'ack', a: 1 }, { t: 'msg', s: 1, ev: 'news', d: { n: 1 } });
    await flush();
    await expect(sent).resolves.toBeUndefined();
    expect(heard).toEqual([1]);
    tabs.forEach((x) => x.c.close());
  });

  test('without a logger, the console hears of it once per tab', async () => {
    vi.useFakeTimers();
    const channels = fakeChannels();
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const c = connect('http://h.test/wf', {
      share: share(),
      transports: ['ws'],
      transportFactories: { ws: fakeTransports().factory },
      platform: { locks: crashableLocks(), channel: channels.for('A'), onLeave: () => () => {}, onWake: () => () => {} },
    });
    const rogue = channels.for('rogue')('x');
    rogue.postMessage({ t: 'nope' });
    rogue.postMessage(null);
    await flush(200);
    expect(warn).toHaveBeenCalledTimes(1);
    warn.mockRestore();
    c.close();
  });
});

describe('a tab\'s calls awaiting a leader are bounded', () => {
  test('with no leader, sends past the outbox bound reject with WF_OUTBOX_FULL; close rejects the rest with WF_CLOSED', async () => {
    const { tabs } = await start({ maxMessages: 3 }, false);
    const [A] = tabs;
    expect(A!.c.role).toBe('follower');
    const queued = [1, 2, 3].map((n) => A!.c.send('say', { n }));
    queued.forEach((p) => p.catch(() => {}));
    await expect(A!.c.send('say', { n: 4 })).rejects.toMatchObject({ code: 'WF_OUTBOX_FULL' });
    A!.c.close();
    for (const p of queued) await expect(p).rejects.toMatchObject({ code: 'WF_CLOSED' });
    tabs[1]!.c.close();
  });

  test('the bytes too: a send that would take the waiting calls past maxBytes is refused, smaller ones still go', async () => {
    const { tabs } = await start({ maxBytes: 100 }, false);
    const [A] = tabs;
    const first = A!.c.send('say', { n: 1, pad: 'x'.repeat(60) } as never);
    first.catch(() => {});
    await expect(A!.c.send('say', { n: 2, pad: 'x'.repeat(60) } as never)).rejects.toMatchObject({ code: 'WF_OUTBOX_FULL' });
    const small = A!.c.send('say', { n: 3 });
    small.catch(() => {});
    tabs.forEach((x) => x.c.close());
    await expect(small).rejects.toMatchObject({ code: 'WF_CLOSED' });
  });
});
