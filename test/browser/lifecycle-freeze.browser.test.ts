import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { cleanup } from '../support/harness';
import { findChromium, launchLifecycleChromium } from './chromium';
import { startPageServer } from './pages';
import { openLifecyclePage, sleep, upTo } from './lifecycle-page';

/*
 * A page frozen as Chrome freezes background tabs (Page Lifecycle, CDP
 * `Page.setWebLifecycleState`), then run again while still hidden. What Chromium 156 does to
 * the links meanwhile: a WebSocket is closed on resume (1006 here, 1001 at the server); a fetch's
 * event stream stays open but silent for good (no error, no end); a held poll carries on.
 */
const executablePath = findChromium();
let L: Awaited<ReturnType<typeof launchLifecycleChromium>>;
let pagesServer: Awaited<ReturnType<typeof startPageServer>>;

describe.runIf(executablePath)('a page frozen and resumed, in Chromium', () => {
  beforeAll(async () => {
    L = await launchLifecycleChromium(executablePath!);
    pagesServer = await startPageServer(process.cwd());
  });
  afterAll(async () => {
    await L?.close();
    await pagesServer?.close();
  });
  afterEach(cleanup);

  test('SSE: the event stream a freeze killed is found on resume, not 2 heartbeats later', async () => {
    // An 8 s heartbeat: the stall deadline (16 s of silence) is far from the answer deadline (2 s).
    const p = await openLifecyclePage({ context: L.context, origin: pagesServer.origin, server: { heartbeatMs: 8000 }, client: { transports: ['sse'], reconnect: { base: 50, max: 500 } } });
    await p.waitOpen();
    p.push(3);
    await p.send(0, 3);
    await p.until((t) => t.ticks.length === 3 && t.echoes.length === 3, 5000, 'first exchange');
    await p.freeze();
    p.push(3); // the server speaks while the page is frozen
    await sleep(1000);
    await p.resume();
    // The page itself stays quiet (a send would find the dead stream within the answer deadline):
    // only the server speaks. Before `resume` woke the client, these came with the stall, ~15 s on.
    p.push(3);
    const t = await p.until((x) => x.ticks.length >= 9, 8000, 'the server\'s messages after resume');
    expect(t.ticks).toEqual(upTo(9));
    await p.send(3, 3);
    expect((await p.until((x) => x.echoes.length >= 6, 5000, 'sends after resume')).echoes).toEqual(upTo(6));
    expect(t.lost).toEqual([]);
    expect(t.log.map(([, s]) => s)).toContain('resume');
  }, 20_000);

  test('a hidden tab that becomes visible checks its link at once (a path that died while hidden)', async () => {
    const p = await openLifecyclePage({ context: L.context, origin: pagesServer.origin, lab: true, server: { heartbeatMs: 8000 }, client: { transports: ['ws'], reconnect: { base: 50, max: 500 } } });
    await p.waitOpen();
    // Hidden, as a background tab: a freeze leaves the page hidden (its WebSocket closed on resume).
    await p.freeze();
    await p.resume();
    await p.until((t) => t.log.filter(([, s]) => s === 'open:ws').length === 2, 8000, 'reconnected while hidden');
    // The path dies without a word while the tab is in the background; then the user comes back.
    p.lab!.freezeAll();
    await sleep(500);
    await p.cdp.send('Emulation.setFocusEmulationEnabled', { enabled: true }); // visible again
    p.push(3);
    // At the stall deadline these would come 16 s after the last beat; `visible` pings at once.
    const t = await p.until((x) => x.ticks.length >= 3, 8000, 'the server\'s messages after becoming visible');
    expect(t.ticks).toEqual(upTo(3));
    expect(t.log.map(([, s]) => s)).toEqual(expect.arrayContaining(['hidden', 'visible', '!WF_STALLED']));
  }, 20_000);

  for (const rung of ['ws', 'sse', 'longpoll'])
    test(`${rung}: frozen past the session's life, the unacknowledged sends come back in sessionlost`, async () => {
      const p = await openLifecyclePage({
        context: L.context,
        origin: pagesServer.origin,
        lab: true,
        server: { heartbeatMs: 500, sessionTtlMs: 500 },
        client: { transports: [rung], reconnect: { base: 50, max: 500 } },
      });
      await p.waitOpen();
      await p.send(0, 2);
      await p.until((t) => t.echoes.length === 2, 5000, 'first exchange');
      // The path dies silently, then the app sends: nothing can acknowledge these.
      p.lab!.freezeAll();
      await p.send(2, 3);
      await p.freeze();
      // The server's silence deadline (2 beats + 1 s) and the session's life run out meanwhile.
      await sleep(4000);
      await p.resume();
      const t = await p.until((x) => x.lost.length > 0, 8000, 'sessionlost');
      expect(t.lost).toHaveLength(1);
      expect(t.log.map(([, s]) => s)).toContain('!WF_SESSION_LOST');
      // Each of 2, 3, 4 is either undelivered (in sessionlost) or went through both ways, never
      // both nor neither. Usually all three are lost. On long-polling a loaded machine may run the
      // held poll's failure (Chromium fails it on resume) before the stall timer: the poll is sent
      // again (§2.3), the server's closed link answers it again with the answer the freeze ate
      // (the acks and echoes of 2-4, then the bye), and only then is the session found gone.
      const lost = t.lost[0]!.map((m) => m.data.n);
      expect(t.lost[0]!.every((m) => m.type === 'echo')).toBe(true);
      expect([...lost, ...t.echoes.filter((n) => n >= 2)].sort()).toEqual([2, 3, 4]);
      // The new session carries on.
      await p.send(5, 2);
      const after = await p.until((x) => x.echoes.includes(6), 5000, 'sends on the new session');
      expect(after.echoes.filter((n) => n < 2 || n > 4)).toEqual([0, 1, 5, 6]);
    }, 20_000);
});
