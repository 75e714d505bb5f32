import { afterEach, describe, expect, test, vi } from 'vitest';
import { fakeSharedTabs, flushTabs } from '../support/fake-tabs';

/*
 * A tab that crashed (its renderer killed: no pagehide, no JS) posts no `leave`. The other tabs
 * must still stop counting it: when the real last tab closes, it ends the session (close 1000)
 * instead of leaving it (1001) for a next leader that never comes, which kept the session and its
 * replay buffer on the server until sessionTtlMs. The browser releases a crashed tab's Web Locks;
 * the fakes do so in `locks.crash(tab)`.
 */
type Api = { client: { say: { n: number } }; server: Record<string, never> };

afterEach(() => void vi.useRealTimers());
const flush = flushTabs;

/** Tabs `names`; the first leads on a welcomed session. */
async function start(names: string[]) {
  const w = fakeSharedTabs<Api>(names);
  await flush(200);
  w.tabs[0]!.t.last().greet().welcome({ sid: 's1', key: 'k1' });
  await flush();
  expect(w.tabs.map((x) => x.c.role)).toEqual(['leader', ...names.slice(1).map(() => 'follower')]);
  return w;
}

/** `name` dies: its channel carries nothing more, the browser releases its locks. */
function crash(w: Awaited<ReturnType<typeof start>>, name: string): void {
  w.channels.kill(name);
  w.locks.crash(name);
  vi.spyOn(w.tabs.find((x) => x.name === name)!.c, 'close'); // its timers still run in this process
}

describe('a crashed tab stops counting (docs/sharing.md, "Closing")', () => {
  test('two tabs, the follower crashed: the leader that closes ends the session (1000), not hands it over (1001)', async () => {
    const w = await start(['A', 'B']);
    const [A] = w.tabs;
    crash(w, 'B');
    await flush();
    A!.c.close();
    expect(A!.t.last().closed?.code).toBe(1000);
  });

  test('a live follower still counts: the leader that closes hands the session over (1001) and the follower leads on it', async () => {
    const w = await start(['A', 'B', 'C']);
    const [A, B] = w.tabs;
    crash(w, 'C');
    await flush();
    A!.c.close();
    expect(A!.t.last().closed?.code).toBe(1001);
    await flush(200);
    expect(B!.c.role).toBe('leader');
    expect(B!.t.last().frames[0]).toMatchObject({ t: 'hello', sid: 's1', key: 'k1' });
  });

  test('a tab heard of only through its sync (it opened earlier) is uncounted too: the leader after it ends the session', async () => {
    // C opened after B, so never heard B's join: it learns of B from B's sync as the next leader.
    const w = await start(['A', 'B', 'C']);
    const [A, B, C] = w.tabs;
    A!.c.close();
    await flush(200);
    expect([B!.c.role, C!.c.role]).toEqual(['leader', 'follower']);
    B!.t.last().greet().welcome({ sid: 's1', key: 'k1', resumed: true, ack: 0 });
    await flush();
    crash(w, 'B');
    await flush(200);
    expect(C!.c.role).toBe('leader');
    C!.t.last().greet().welcome({ sid: 's1', key: 'k1', resumed: true, ack: 0 });
    await flush();
    C!.c.close();
    expect(C!.t.last().closed?.code).toBe(1000);
  });

  test('a send of the crashed tab that the leader held for its confirm is written at once, not after the hold (1 s)', async () => {
    const w = await start(['A', 'B']);
    const [A, B] = w.tabs;
    w.channels.lose((m) => m.t === 'confirm'); // B heard its number but died before confirming it
    void B!.c.send('say', { n: 1 }).catch(() => {});
    await flush();
    const said = () => A!.t.last().frames.filter((f) => f.t === 'msg');
    expect(said()).toEqual([]);
    crash(w, 'B');
    await flush();
    expect(said()).toMatchObject([{ t: 'msg', ev: 'say', d: { n: 1 } }]);
  });
});
