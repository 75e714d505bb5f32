import type { BrowserContext, CDPSession } from 'playwright-core';
import type { ServerOptions } from '../../src/server/index';
import { startLab } from '../../lab';
import { startServer, track } from '../support/harness';

/**
 * One page with a wirefall client against the reference server (through the lab when asked),
 * for the page-lifecycle tests: frozen, hidden, back/forward cache. The page records a timeline
 * on `window.__lc`; the server echoes `echo` messages and pushes numbered `tick`s when asked.
 */
export type Timeline = {
  /** `[ms since start, what]`: states (`open:ws`), errors (`!WF_STALLED`), page events (`pageshow:persisted`). */
  log: [number, string][];
  echoes: number[];
  ticks: number[];
  /** What each `sessionlost` said was undelivered. */
  lost: { type: string; data: { n: number } }[][];
  /** Sends that rejected: `n:code`. */
  failed: string[];
};

export interface LifecyclePageOptions {
  /** A context of `launchLifecycleChromium` (pages there can be frozen and cached). */
  context: BrowserContext;
  /** Where the page server is; `path` is the page (`/umd.html`, `/share-umd.html`). */
  origin: string;
  path?: string;
  server?: ServerOptions;
  /** Passed to `connect`; `shared: true` adds `share: Wirefall.share()`. */
  client: Record<string, unknown>;
  /** Connect through the lab proxy (its `freezeAll` then kills the path silently). */
  lab?: boolean;
}

export async function openLifecyclePage(o: LifecyclePageOptions) {
  const { server, port } = await startServer({ allowedOrigins: [o.origin], ...o.server });
  track(server);
  const lab = o.lab ? track(await startLab({ upstream: { host: '127.0.0.1', port }, scenario: { kind: 'pass' } })) : undefined;
  let tick = 0;
  let latest: { send(type: string, data: unknown): unknown } | undefined;
  server.on('connection', (conn) => {
    latest = conn as never;
    conn.subscribe('echo', (d) => void conn.send('echoed', d));
  });
  const page = await o.context.newPage();
  track({ close: () => page.close() });
  await page.goto(o.origin + (o.path ?? '/umd.html'));
  await page.waitForFunction(() => (window as unknown as { __ready?: boolean }).__ready === true);
  /** What the app does when its page loads: connect, and record. */
  const boot = () => page.evaluate(
    ([url, opts]) => {
      type Client = { on(e: string, f: (...a: any[]) => void): void; subscribe(t: string, f: (d: { n: number }) => void): void };
      const w = window as unknown as { __lib: { connect(u: string, o: unknown): Client; share(): unknown }; __client: Client; __lc: Timeline };
      const lc: Timeline = (w.__lc = { log: [], echoes: [], ticks: [], lost: [], failed: [] });
      const t0 = Date.now();
      const note = (s: string) => lc.log.push([Date.now() - t0, s]);
      const { shared, ...rest } = opts as { shared?: boolean };
      const c = (w.__client = w.__lib.connect(url, shared ? { ...rest, share: w.__lib.share() } : rest));
      c.on('state', (s: string, r: string | null) => note(s + (r ? ':' + r : '')));
      c.on('error', (e: { code: string }) => note('!' + e.code));
      c.on('sessionlost', (m: Timeline['lost'][number]) => (lc.lost.push(m), note('lost:' + m.length)));
      c.subscribe('echoed', (d) => lc.echoes.push(d.n));
      c.subscribe('tick', (d) => lc.ticks.push(d.n));
      for (const ev of ['freeze', 'resume', 'pagehide', 'pageshow']) addEventListener(ev, (e) => note(ev + ((e as PageTransitionEvent).persisted ? ':persisted' : '')), true);
      document.addEventListener('visibilitychange', () => note(document.visibilityState));
    },
    [`${lab?.url ?? `http://127.0.0.1:${port}`}/wirefall`, o.client] as const,
  );
  await boot();
  const cdp: CDPSession = await o.context.newCDPSession(page);
  const timeline = () => page.evaluate(() => (window as unknown as { __lc: Timeline }).__lc);
  return {
    page,
    cdp,
    lab,
    boot,
    /** Pushes `n` numbered ticks on the newest session. */
    push: (n: number) => {
      for (let i = 0; i < n; i++) latest?.send('tick', { n: tick++ });
    },
    timeline,
    /** Waits (bounded) until `check` holds for the timeline; returns it. */
    until: async (check: (t: Timeline) => boolean, ms: number, what: string): Promise<Timeline> => {
      const end = Date.now() + ms;
      for (;;) {
        const t = await timeline();
        if (check(t)) return t;
        if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms; timeline ${JSON.stringify(t)}`);
        await sleep(100);
      }
    },
    /**
     * Waits until the page's client is open and the server has announced the session (`push`
     * speaks on it): the client can be open before that, and a push then went nowhere (seen under
     * load: the first exchange's ticks never came).
     */
    waitOpen: async () => {
      await page.waitForFunction(() => (window as unknown as { __client: { state: string } }).__client.state === 'open', undefined, { timeout: 10_000 });
      for (const end = Date.now() + 10_000; !latest; await sleep(20)) if (Date.now() > end) throw new Error('the server announced no session within 10 s of the client opening');
    },
    /** Sends echoes `from`..`from + n - 1`; a send that rejects is noted in `failed`. */
    send: (from: number, n: number) =>
      page.evaluate(([f, k]) => {
        const w = window as unknown as { __client: { send(t: string, d: unknown): Promise<void> }; __lc: Timeline };
        for (let i = f; i < f + k; i++) w.__client.send('echo', { n: i }).catch((e: { code: string }) => w.__lc.failed.push(`${i}:${e.code}`));
      }, [from, n] as const),
    freeze: async (): Promise<void> => void (await cdp.send('Page.setWebLifecycleState', { state: 'frozen' })),
    /** Runs the page again; it stays hidden, as Chrome's background tabs do. */
    resume: async (): Promise<void> => void (await cdp.send('Page.setWebLifecycleState', { state: 'active' })),
  };
}

/** `[0, 1, …, n - 1]`. */
export const upTo = (n: number) => Array.from({ length: n }, (_, i) => i);
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
