import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import type { Page } from 'playwright-core';
import { cleanup, startServer, track } from '../support/harness';
import { findChromium, launchLifecycleChromium } from './chromium';
import { startSharePages } from './share-pages';
import { sleep, upTo } from './lifecycle-page';

/*
 * A page with a shared client (wirefall/share) in the back/forward cache, with other tabs of the
 * group open. Chromium 156 evicted such a page (`WebLocksContention`: it held its Web Locks there;
 * an open BroadcastChannel that hears a message would add `BroadcastChannelOnMessage`), so Back
 * loaded it anew. Now the tab leaves the group on its way into the cache and joins again on the
 * way back: it must be restored, and its client carry on in the group. Its sends made just
 * before it left (in flight to the leader) and after it came back reach the server exactly once,
 * each of its promises settles, and its subscription hears what the server sends after.
 */
const executablePath = findChromium();
let L: Awaited<ReturnType<typeof launchLifecycleChromium>>;
let pages: Awaited<ReturnType<typeof startSharePages>>;

type Say = { tab: string; n: number };
type SayApi = { client: { say: Say }; server: { said: Say } };
type Rec = { said: string[]; acked: string[]; failed: string[]; log: string[] };
type Win = {
  __ready?: boolean;
  __lib: { connect(u: string, o: unknown): Client; share(): unknown };
  __client: Client;
  __rec: Rec;
  __onhide?: () => void;
};
type Client = { role: string; state: string; tab: string; on(e: string, f: (...a: any[]) => void): void; subscribe(t: string, f: (d: { tab: string; n: number }) => void): void; send(t: string, d: unknown): Promise<void> };

/** Opens a tab of the group: the page's app connects, shared, and records what it sees. */
async function openTab(url: string): Promise<Page> {
  const page = await L.context.newPage();
  track({ close: () => page.close() });
  await page.goto(`${pages.origin}/share-umd.html`);
  await page.waitForFunction(() => (window as unknown as Win).__ready === true);
  await page.evaluate((u) => {
    const w = window as unknown as Win;
    const rec: Rec = (w.__rec = { said: [], acked: [], failed: [], log: [] });
    // The app's own pagehide listener, added before the client's: what it sends is in flight to
    // the leader as the client leaves the group.
    addEventListener('pagehide', () => w.__onhide?.());
    const c = (w.__client = w.__lib.connect(u, { transports: ['ws'], share: w.__lib.share() }));
    c.subscribe('said', (d) => rec.said.push(`${d.tab}:${d.n}`));
    c.on('state', (s: string) => rec.log.push(s));
    for (const ev of ['pagehide', 'pageshow']) addEventListener(ev, (e) => rec.log.push(ev + ((e as PageTransitionEvent).persisted ? ':persisted' : '')));
  }, url);
  return page;
}

/** Sends `say` n = from..from+count-1 as `tab`; `then`: code run right after, in the same task. */
const say = (p: Page, tab: string, from: number, count: number, then = '') =>
  p.evaluate(
    ([tab, from, count, then]) => {
      const w = window as unknown as Win;
      for (let n = from; n < from + count; n++) w.__client.send('say', { tab, n }).then(() => w.__rec.acked.push(`${tab}:${n}`), (e: { code: string }) => w.__rec.failed.push(`${tab}:${n}:${e.code}`));
      if (then) new Function(then)();
    },
    [tab, from, count, then] as const,
  );

const view = (p: Page) => p.evaluate(() => ({ role: (window as unknown as Win).__client.role, state: (window as unknown as Win).__client.state, ...(window as unknown as Win).__rec }));

async function until<T>(get: () => Promise<T>, check: (x: T) => boolean, what: string, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const x = await get();
    if (check(x)) return x;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(x)}`);
    await sleep(100);
  }
}

const names = (tab: string, from: number, count: number) => upTo(count).map((i) => `${tab}:${from + i}`);

describe.runIf(executablePath)('a shared client in the back/forward cache, in Chromium', () => {
  beforeAll(async () => {
    L = await launchLifecycleChromium(executablePath!);
    pages = await startSharePages(process.cwd());
  });
  afterAll(async () => {
    await L?.close();
    await pages?.close();
  });
  afterEach(cleanup);

  for (const away of ['leader', 'follower'] as const) {
    test(`three tabs, the ${away} goes into the cache and comes back: restored, and it carries on in the group, every send once`, async () => {
      const { server, url } = await startServer<SayApi>({ allowedOrigins: [pages.origin] });
      track(server);
      // What the server took, in order; each `say` is told to every tab (`said`).
      const got: string[] = [];
      let sessions = 0;
      server.on('connection', (conn) => {
        sessions++;
        conn.subscribe('say', (d) => void (got.push(`${d.tab}:${d.n}`), conn.send('said', d)));
      });
      const tabs: Page[] = [];
      for (let i = 0; i < 3; i++) {
        tabs.push(await openTab(url));
        // One at a time: the first leads.
        await until(() => view(tabs[i]!), (v) => v.state === 'open', `tab ${i} open`);
      }
      expect((await view(tabs[0]!)).role).toBe('leader');
      const p = away === 'leader' ? tabs[0]! : tabs[1]!;
      const others = tabs.filter((t) => t !== p);
      const notUsed: unknown[] = [];
      const cdp = await L.context.newCDPSession(p);
      await cdp.send('Page.enable');
      cdp.on('Page.backForwardCacheNotUsed', (e) => notUsed.push(e));
      const home = p.url();

      // Sends just before the page leaves (the navigation starts in the same task), and one from
      // the app's pagehide listener, in flight to the leader as the client leaves the group.
      await say(p, 'X', 5, 0, `window.__onhide = () => window.__client.send('say', { tab: 'X', n: 5 }).then(() => window.__rec.acked.push('X:5'), (e) => window.__rec.failed.push('X:5:' + e.code))`);
      await say(p, 'X', 0, 5, `location.href = ${JSON.stringify(`${pages.origin}/share-esm.html`)}`);
      await p.waitForURL(`${pages.origin}/share-esm.html`, { waitUntil: 'commit' });
      // The group carries on without it: these reach every tab in the group, and the server.
      for (const [i, o] of others.entries()) await say(o, `O${i}`, 0, 3);
      await until(() => view(others[0]!), (v) => v.said.length >= 6 && v.role === 'leader' && v.state === 'open', 'the others served while it is away');
      // Back (not page.goBack(): it waits for a `load` that a page restored from the cache never fires).
      await cdp.send('Runtime.evaluate', { expression: 'history.back()' });
      await p.waitForURL(home, { waitUntil: 'commit', timeout: 10_000 });
      await p.waitForFunction(() => document.readyState === 'complete', undefined, { timeout: 10_000 });
      const reasons = notUsed.map((e) => (e as { notRestoredExplanations: { reason: string }[] }).notRestoredExplanations.map((x) => x.reason)).flat();
      console.log(`${away} back: ${reasons.length ? `loaded anew, not cached: ${reasons.join(', ')}` : 'restored from the cache'}`);
      // Before: ['WebLocksContention'], and the page loaded anew, without the app's client.
      expect(reasons).toEqual([]);
      expect((await view(p)).log).toContain('pageshow:persisted');

      // After the return: the tab's sends work, and the server's messages reach it.
      await until(() => view(p), (v) => v.state === 'open', 'the restored tab open again');
      await say(p, 'X', 6, 5);
      for (const [i, o] of others.entries()) await say(o, `O${i}`, 3, 3);
      const all = [...names('X', 0, 11), ...names('O0', 0, 6), ...names('O1', 0, 6)];
      await until(async () => got, (g) => all.every((n) => g.includes(n)), 'every send at the server');
      const v = await until(() => view(p), (x) => x.acked.length + x.failed.length >= 11, 'every send of the restored tab settled');
      expect(v.failed).toEqual([]);
      expect([...v.acked].sort()).toEqual(names('X', 0, 11).sort());
      // Nothing twice, nothing else.
      expect([...got].sort()).toEqual([...all].sort());
      expect(sessions).toBe(1);
      // Its subscription fires again: everything sent after it came back reaches it, once.
      const after = [...names('X', 6, 5), ...names('O0', 3, 3), ...names('O1', 3, 3)];
      const heard = await until(() => view(p), (x) => after.every((n) => x.said.includes(n)), 'the restored tab hears the server');
      for (const n of after) expect(heard.said.filter((s) => s === n), n).toHaveLength(1);
      expect(['leader', 'follower']).toContain(heard.role);
      // The other tabs still count it, lead or follow it: one leader in the group.
      const roles = [heard.role, ...(await Promise.all(others.map(async (o) => (await view(o)).role)))];
      expect(roles.filter((r) => r === 'leader')).toHaveLength(1);
    }, 60_000);
  }
});
