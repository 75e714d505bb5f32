import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { cleanup } from '../support/harness';
import { findChromium, launchLifecycleChromium } from './chromium';
import { startPageServer } from './pages';
import { startSharePages } from './share-pages';
import { openLifecyclePage, sleep, type Timeline } from './lifecycle-page';

/*
 * Back/forward cache: the page navigates away and comes back with history.back(). Chromium 156
 * keeps a page with a wirefall client open in the cache (no `backForwardCacheNotUsed`), shared or
 * not, and closes its WebSocket on the way back; the client must be usable again after the
 * restore. Several tabs sharing: bshare-bfcache.browser.test.ts.
 */
const executablePath = findChromium();
let L: Awaited<ReturnType<typeof launchLifecycleChromium>>;
let pagesServer: Awaited<ReturnType<typeof startPageServer>>;
let sharePages: Awaited<ReturnType<typeof startSharePages>>;

type Opened = Awaited<ReturnType<typeof openLifecyclePage>>;

/** Away to `elsewhere` and back; returns why the page was not cached (Chromium's reasons), if it was not. */
async function awayAndBack(p: Opened, elsewhere: string): Promise<unknown[]> {
  const notUsed: unknown[] = [];
  await p.cdp.send('Page.enable');
  p.cdp.on('Page.backForwardCacheNotUsed', (e) => notUsed.push(e));
  const home = p.page.url();
  await p.page.goto(elsewhere, { waitUntil: 'commit' });
  await sleep(300);
  // Not page.goBack(): it waits for a `load` that a page restored from the cache never fires.
  await p.cdp.send('Runtime.evaluate', { expression: 'history.back()' });
  await p.page.waitForURL(home, { waitUntil: 'commit', timeout: 10_000 });
  await p.page.waitForFunction(() => document.readyState === 'complete', undefined, { timeout: 10_000 });
  return notUsed;
}

const restored = (t: Timeline) => t.log.some(([, s]) => s === 'pageshow:persisted');

describe.runIf(executablePath)('back/forward cache, in Chromium', () => {
  beforeAll(async () => {
    L = await launchLifecycleChromium(executablePath!);
    pagesServer = await startPageServer(process.cwd());
    sharePages = await startSharePages(process.cwd());
  });
  afterAll(async () => {
    await L?.close();
    await pagesServer?.close();
    await sharePages?.close();
  });
  afterEach(cleanup);

  test('a page with an open client is cached and restored, and the client carries on (every rung)', async () => {
    for (const rung of ['ws', 'sse', 'longpoll']) {
      const p = await openLifecyclePage({ context: L.context, origin: pagesServer.origin, server: { heartbeatMs: 1000 }, client: { transports: [rung], reconnect: { base: 50, max: 500 } } });
      await p.waitOpen();
      const notUsed = await awayAndBack(p, `${pagesServer.origin}/esm.html`);
      expect(notUsed, rung).toEqual([]);
      p.push(3);
      await p.send(0, 3);
      const t = await p.until((x) => x.ticks.length >= 3 && x.echoes.length >= 3, 8000, `${rung}: messages after the restore`);
      expect(restored(t), rung).toBe(true);
      expect([t.ticks, t.echoes, t.lost], rung).toEqual([[0, 1, 2], [0, 1, 2], []]);
      await p.page.close();
    }
  }, 30_000);

  test('a page with a shared client (wirefall/share) is cached and restored, and the client carries on', async () => {
    const p = await openLifecyclePage({ context: L.context, origin: sharePages.origin, path: '/share-umd.html', server: { heartbeatMs: 1000 }, client: { transports: ['ws'], shared: true } });
    await p.waitOpen();
    const notUsed = await awayAndBack(p, `${sharePages.origin}/share-esm.html`);
    // It held its Web Locks in the cache: Chromium 156 evicted it (WebLocksContention), and Back
    // loaded the page anew. Before that, it closed for good on the way in: a dead client.
    expect(notUsed).toEqual([]);
    await p.waitOpen();
    p.push(3);
    await p.send(0, 3);
    const t = await p.until((x) => x.ticks.length >= 3 && x.echoes.length >= 3, 8000, 'messages after the restore');
    expect(restored(t)).toBe(true);
    expect([t.ticks, t.echoes, t.failed]).toEqual([[0, 1, 2], [0, 1, 2], []]);
  }, 20_000);
});
