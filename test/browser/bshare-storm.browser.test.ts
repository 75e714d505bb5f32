import { describe, expect, test } from 'vitest';
import type { Page } from 'playwright-core';
import { startServer, track } from '../support/harness';
import { bshareBrowser } from '../support/bshare-pages';
import { findChromium } from './chromium';

/*
 * Tabs coming and going while the shared connection is still being made, in a real Chromium: the
 * server holds every hello (its `authenticate` waits for the test) while the first leader closes
 * and the next one's renderer crashes, both before any welcome. Each had numbered the tabs'
 * sends; none had a session to hand over. Every surviving tab's sends must still arrive once, in
 * order, and every promise settle.
 */
const executablePath = findChromium();
const TABS = 5;
const COUNT = 3;
const world = bshareBrowser(executablePath);

type View = { role: string; state: string; acked: number[]; failed: string[]; errors: string[]; buffered: { messages: number } };
type Win = { __start(u: string, o: unknown, s: boolean): void; __say(t: number, c: number): void; __view(): View; __ready?: boolean };
const view = (p: Page) => p.evaluate(() => (window as unknown as Win).__view());

/** Polls until `check` holds for the views of `list` (no fixed sleeps: the machine may be slow). */
async function until(list: Page[], check: (vs: View[]) => boolean, what: string, ms = 30_000): Promise<View[]> {
  const end = Date.now() + ms;
  for (;;) {
    const vs = await Promise.all(list.map(view));
    if (check(vs)) return vs;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(vs)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.runIf(executablePath)('tab sharing in Chromium: leaders that go before their first welcome', () => {
  for (const kind of ['esm', 'umd'] as const) {
    test(`${kind}: the first leader closes, the next crashes, both unwelcomed: every other tab's sends arrive once, in order`, async () => {
      let open!: () => void;
      const gate = new Promise<void>((r) => (open = r));
      const { server, url } = await startServer({ allowedOrigins: [world.pages.origin], authenticate: () => gate.then(() => 'u'), authTimeoutMs: 120_000 });
      track(server);
      const got: { tab: number; n: number }[] = [];
      server.on('connection', (conn) => conn.subscribe('say', (d) => void got.push(d as never)));
      const context = await world.browser.newContext();
      track({ close: () => context.close() });
      const list: Page[] = [];
      for (let i = 0; i < TABS; i++) {
        const page = await context.newPage();
        await page.goto(`${world.pages.origin}/${kind}.html`);
        await page.waitForFunction(() => (window as unknown as Win).__ready === true);
        await page.evaluate(([u]) => (window as unknown as Win).__start(u, { transports: ['ws'], welcomeTimeout: 120_000 }, true), [url] as const);
        list.push(page);
        // The first tab leads (the others queue for the lock behind it).
        if (i === 0) await until([page], ([v]) => v!.role === 'leader', 'the first leader');
      }
      for (let i = 0; i < TABS; i++) await list[i]!.evaluate(([t, c]) => (window as unknown as Win).__say(t, c), [i, COUNT] as const);
      // The leader numbered all of them, and every tab mirrors them; nothing could be written yet.
      await until(list, (vs) => vs.every((v) => v.buffered.messages === TABS * COUNT), 'every send mirrored');
      await list[0]!.close();
      let rest = list.slice(1);
      const second = (await until(rest, (vs) => vs.some((v) => v.role === 'leader'), 'a second leader')).findIndex((v) => v.role === 'leader');
      await until(rest, (vs) => vs.every((v) => v.buffered.messages === (TABS - 1) * COUNT), 'the sends numbered again');
      // Page.crash kills the renderer: no pagehide, no JS; the browser releases its Web Lock.
      const crashed = rest[second]!;
      void (await context.newCDPSession(crashed)).send('Page.crash').catch(() => {});
      rest = rest.filter((p) => p !== crashed);
      await until(rest, (vs) => vs.some((v) => v.role === 'leader'), 'a third leader');
      open();
      const final = await until(rest, (vs) => vs.every((v) => v.acked.length + v.failed.length === COUNT), 'every send settled');
      expect(final.map((v) => v.failed)).toEqual(rest.map(() => []));
      for (const p of rest) {
        const tab = list.indexOf(p);
        expect(got.filter((m) => m.tab === tab).map((m) => m.n)).toEqual([0, 1, 2]);
      }
      // The two gone tabs had no session: what they sent was never written anywhere.
      expect(got.filter((m) => !rest.includes(list[m.tab]!))).toEqual([]);
      expect(final.map((v) => v.buffered.messages)).toEqual(rest.map(() => 0));
    }, 120_000);
  }
});
