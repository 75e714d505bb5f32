import { afterEach, expect, test, vi } from 'vitest';
import { Mirror } from '../../src/share/mirror';
import { share } from '../../src/share/index';
import { connect } from '../../src/index';
import { fakeTransports } from '../support/fake-transport';
import { crashableLocks, fakeChannels } from '../support/fake-tabs';

/*
 * `buffered.bytes` of a shared client counted the payloads' UTF-16 units; a solo connection counts
 * UTF-8 bytes (its outbox's). Now both count bytes: the leader's outbox measured them once, and
 * every tab's mirror keeps a running total (reading `buffered` no longer walks every entry).
 */
afterEach(() => void vi.useRealTimers());

const text = 'héllo € 😀'; // 1 + 2 + 1 + 3 + 1 + 4 bytes beyond ASCII, in 10 UTF-16 units
const bytesOf = (s: string) => new TextEncoder().encode(s).length;

test('every tab reports the bytes a solo connection would, for its own sends and the others\'', async () => {
  vi.useFakeTimers();
  const flush = async (ms = 0) => {
    await vi.advanceTimersByTimeAsync(ms);
    for (let i = 0; i < 6; i++) await vi.advanceTimersByTimeAsync(1);
  };
  const channels = fakeChannels();
  const locks = crashableLocks();
  const platform = (name: string) => ({ locks, channel: channels.for(name), onLeave: () => () => {}, onWake: () => () => {}, random: () => 0.5 });
  type Api = { client: { say: { text: string } }; server: Record<string, never> };
  const tabs = ['A', 'B'].map((name) => {
    const t = fakeTransports();
    return { t, c: connect<Api>('http://h.test/wf', { share: share(), transports: ['ws'], transportFactories: { ws: t.factory }, platform: platform(name) }) };
  });
  const soloT = fakeTransports();
  const solo = connect<Api>('http://h.test/wf', { transports: ['ws'], transportFactories: { ws: soloT.factory }, platform: { onWake: () => () => {}, random: () => 0.5 } });
  await flush(200);
  tabs[0]!.t.last().greet().welcome({ sid: 's1', key: 'k1' });
  soloT.last().greet().welcome({ sid: 's2', key: 'k2' });
  await flush();
  const pending = [tabs[0]!.c.send('say', { text }), tabs[1]!.c.send('say', { text }), solo.send('say', { text })];
  pending.forEach((p) => p.catch(() => {}));
  await flush();
  const one = bytesOf(JSON.stringify({ text }));
  expect(one).toBeGreaterThan(JSON.stringify({ text }).length);
  expect(solo.buffered).toEqual({ messages: 1, bytes: one });
  expect(tabs.map((x) => x.c.buffered)).toEqual([{ messages: 2, bytes: 2 * one }, { messages: 2, bytes: 2 * one }]);
  for (const x of [...tabs.map((x) => x.c), solo]) x.close();
  await flush();
});

test('the mirror\'s running total follows every way an entry comes and goes', () => {
  const e = (s: number, payload = `{"t":"${'é'.repeat(s)}"}`, n?: number) => ({ s, ev: 'say', payload, from: 'A', id: s, ...(n !== undefined && { n }) });
  const sum = (m: Mirror) => m.entries().reduce((a, x) => a + bytesOf(x.payload), 0);
  const m = new Mirror();
  [1, 2, 3, 4].forEach((s) => m.assign(e(s)));
  expect(m.bytes).toBe(sum(m));
  m.assign(e(2, '{"t":"replaced"}')); // the same number again (a merge): counted once
  expect(m.bytes).toBe(sum(m));
  m.acknowledge(1);
  m.drop(3);
  m.drop(3);
  expect(m.bytes).toBe(sum(m));
  m.renumbered([{ from: 4, to: 3 }, { from: 2, to: 4 }], 2);
  expect(m.entries().map((x) => x.s)).toEqual([3, 4]);
  expect(m.bytes).toBe(sum(m));
  const other = new Mirror();
  other.assign(e(7, '{"x":1}', 7)); // a leader's measured `n` is taken as it is
  m.merge(other.state());
  expect(m.bytes).toBe(sum(m));
  m.renumber();
  expect(m.bytes).toBe(sum(m));
  m.acknowledge(99);
  expect(m.bytes).toBe(0);
});
