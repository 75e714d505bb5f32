import { describe, expect, test } from 'vitest';
import type { Page } from 'playwright-core';
import { startServer, track } from '../support/harness';
import { bshareBrowser } from '../support/bshare-pages';
import { findChromium } from './chromium';

/*
 * A crashed tab stops counting, in a real Chromium: two tabs share a session, the follower's
 * renderer is killed (CDP `Page.crash`: no pagehide, no JS, no `leave`), then the leader tab
 * closes. It is the last tab: it must end the session (bye), and the server close it at once,
 * not leave it (1001) for a next leader that never comes, kept until sessionTtlMs (60 s).
 */
const executablePath = findChromium();
const world = bshareBrowser(executablePath);

type Win = { __start(u: string, o: unknown, s: boolean): void; __view(): { role: string; state: string }; __client: { tab: string }; __ready?: boolean };
type Held = { held?: { name?: string }[]; pending?: { name?: string }[] };

/** Polls `check` until it holds (no fixed sleeps: the machine may be slow). */
async function until<T>(get: () => Promise<T>, check: (x: T) => boolean, what: string, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const x = await get();
    if (check(x)) return x;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(x)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.runIf(executablePath)('tab sharing in Chromium: a crashed tab stops counting', () => {
  for (const kind of ['esm', 'umd'] as const) {
    test(`${kind}: the follower crashed, the leader closes: the server ends the session at once`, async () => {
      const { server, url } = await startServer({ allowedOrigins: [world.pages.origin] });
      track(server);
      const ended: string[] = [];
      let sessions = 0;
      server.on('connection', (conn) => (sessions++, conn.on('close', (reason) => void ended.push(reason))));
      const context = await world.browser.newContext();
      track({ close: () => context.close() });
      const open = async () => {
        const page = await context.newPage();
        await page.goto(`${world.pages.origin}/${kind}.html`);
        await page.waitForFunction(() => (window as unknown as Win).__ready === true);
        await page.evaluate(([u]) => (window as unknown as Win).__start(u, { transports: ['ws'] }, true), [url] as const);
        return page;
      };
      const view = (p: Page) => p.evaluate(() => (window as unknown as Win).__view());
      const leader = await open();
      await until(() => view(leader), (v) => v.role === 'leader' && v.state === 'open', 'the leader open');
      const follower = await open();
      await until(() => view(follower), (v) => v.role === 'follower' && v.state === 'open', 'the follower open');
      const gone = await follower.evaluate(() => (window as unknown as Win).__client.tab);

      void (await context.newCDPSession(follower)).send('Page.crash').catch(() => {});
      // Until the browser has released the crashed tab's locks and the leader's wait for it ended:
      // no lock, held or waited for, names the crashed tab any more (a wait still held is the
      // leader's callback not yet run). Without the fix, no lock ever named it: this holds at once.
      const names = (q: Held) => [...(q.held ?? []), ...(q.pending ?? [])].map((l) => l.name ?? '');
      await until(() => leader.evaluate(() => navigator.locks.query() as Promise<Held>), (q) => !names(q).some((n) => n.includes(gone)), 'the crashed tab forgotten');

      const closedAt = Date.now();
      await leader.close();
      await until(async () => ended.length, (n) => n > 0, 'the session ended on the server', 10_000);
      expect(sessions).toBe(1);
      // The last tab's bye ended it (src/server/session.ts), not the expiry.
      expect(ended).toEqual(['client closed']);
      // Far under sessionTtlMs (60 s): the bye, not the expiry, ended it.
      expect(Date.now() - closedAt).toBeLessThan(10_000);
    }, 60_000);
  }
});
