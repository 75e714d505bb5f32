import { afterEach, describe, expect, test, vi } from 'vitest';
import type { FakeTransport } from '../support/fake-transport';
import { fakeSharedTabs, flushTabs } from '../support/fake-tabs';

/*
 * A leader that goes before its client's first welcome (a storm of tabs opening and closing, a
 * crash while connecting) has numbered the sends it was given, and every tab mirrored them, but
 * there is no session any tab knows of to resume them in. They were never written: every tab
 * submits them again to the next leader, which sends them on its new session.
 */
type Say = { from: string; n: number };
type Api = { client: { say: Say }; server: Record<string, never> };

afterEach(() => void vi.useRealTimers());
const flush = flushTabs;
const written = (t: FakeTransport) => t.frames.filter((f) => f.t === 'msg').map((f) => f.d as Say);

async function start() {
  const { tabs, channels, locks } = fakeSharedTabs<Api>(['A', 'B', 'C']);
  await flush(200);
  expect(tabs.map((x) => x.c.role)).toEqual(['leader', 'follower', 'follower']);
  return { tabs, channels, locks };
}

/** Where a promise stands once the microtasks queued so far ran. */
async function outcome(p: Promise<unknown>) {
  let state = 'pending';
  p.then(() => (state = 'acked'), (e: { code: string }) => (state = e.code));
  for (let i = 0; i < 10; i++) await Promise.resolve();
  return state;
}

describe('the leader goes before its first welcome: the sends it numbered go through the next leader', () => {
  for (const how of ['closes', 'crashes'] as const) {
    test(`A ${how}; B leads and sends B's and C's sends once, in each tab's order; every promise resolves`, async () => {
      const { tabs, channels, locks } = await start();
      const [A, B, C] = tabs;
      const sends = [C!.c.send('say', { from: 'C', n: 1 }), B!.c.send('say', { from: 'B', n: 1 }), C!.c.send('say', { from: 'C', n: 2 })];
      await flush();
      // A numbered them (every tab mirrors them) but, never welcomed, wrote nothing.
      expect(tabs.map((x) => x.c.buffered.messages)).toEqual([3, 3, 3]);
      expect(written(A!.t.last())).toEqual([]);
      if (how === 'closes') A!.c.close();
      else channels.kill('A'), locks.crash('A'), vi.spyOn(A!.c, 'close');
      await flush(150);
      expect(B!.c.role).toBe('leader');
      const t = B!.t.last();
      expect(t.frames[0]).not.toHaveProperty('sid'); // nothing to resume
      t.greet().welcome({ sid: 's2', key: 'k2' });
      await flush();
      const got = written(t);
      expect(got).toHaveLength(3);
      expect(got.filter((d) => d.from === 'C').map((d) => d.n)).toEqual([1, 2]);
      t.receive({ t: 'ack', a: 3 });
      await flush();
      expect(await Promise.all(sends.map(outcome))).toEqual(['acked', 'acked', 'acked']);
      // No entry of the old numbering is left in any mirror (it would be resent on the next hand-over).
      expect([B!.c.buffered.messages, C!.c.buffered.messages]).toEqual([0, 0]);
      B!.c.close();
      C!.c.close();
    });
  }
});
