import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { chromium, type Browser, type Page } from 'playwright-core';
import { matrix, SETTLE_MS } from '../lab/matrix-cases';
import { startLab } from '../../lab';
import { cleanup, startServer, track } from '../support/harness';
import { CHROMIUM_FLAGS, findChromium, INSTALL_LINE } from './chromium';
import { startPageServer } from './pages';

/*
 * The lab matrix in a real headless Chromium: the library loaded as the UMD bundle through a
 * <script> tag and as an ES module, against the reference server and the lab on 127.0.0.1.
 * Without a Chromium these tests are not registered; test/browser/report-missing.mjs then says
 * so loudly after the run (and fails it in CI).
 */
const executablePath = findChromium();
if (!executablePath && process.env.WIREFALL_REQUIRE_BROWSER === '1') {
  throw new Error(`Chromium is required here but was not found: ${INSTALL_LINE}`);
}

let browser: Browser;
let pagesServer: Awaited<ReturnType<typeof startPageServer>>;
const timings: string[] = [];

if (executablePath) {
  beforeAll(async () => {
    browser = await chromium.launch({ executablePath, args: CHROMIUM_FLAGS });
    pagesServer = await startPageServer(process.cwd());
  });
  afterAll(async () => {
    await browser?.close();
    await pagesServer?.close();
    console.log(`time to connected (Chromium):\n${timings.join('\n')}`);
  });
  afterEach(cleanup);
}

type Snapshot = {
  openAt: number;
  states: string[];
  rung: string | null;
  state: string;
  opens: number;
  echoes: number[];
  errors: { code: string; status?: number }[];
  attempts: { rung: string; outcome: string; reason?: string; status?: number }[];
};

async function open(kind: 'umd' | 'esm', scenario: Parameters<typeof startLab>[0]['scenario'], opts: Record<string, unknown>, heartbeatMs = 5000) {
  const { server, port } = await startServer({ heartbeatMs, allowedOrigins: [pagesServer.origin] });
  track(server);
  server.on('connection', (conn) => conn.subscribe('echo', (d) => void conn.send('echoed', d)));
  const lab = track(await startLab({ upstream: { host: '127.0.0.1', port }, scenario }));
  const context = await browser.newContext();
  track({ close: () => context.close() });
  const page = await context.newPage();
  await page.goto(`${pagesServer.origin}/${kind}.html`);
  await page.waitForFunction(() => (window as unknown as { __ready?: boolean }).__ready === true);
  await page.evaluate(
    ([url, o]) => {
      const w = window as unknown as { __start(W: unknown, u: string, o: unknown): void; __lib: unknown };
      w.__start(w.__lib, url, o);
    },
    [`${lab.url}/wirefall`, opts] as const,
  );
  return { page, lab };
}

const snapshot = (page: Page) => page.evaluate(() => (window as unknown as { __snapshot(): Snapshot }).__snapshot());

async function exchange(page: Page, from: number, n: number, spreadMs: number): Promise<void> {
  await page.evaluate(([f, c, s]) => (window as unknown as { __sendEchoes(a: number, b: number, c: number): Promise<void> }).__sendEchoes(f, c, s), [from, n, spreadMs] as const);
  await page.waitForFunction((total) => (window as unknown as { __wf: { echoes: number[] } }).__wf.echoes.length >= total, n, { timeout: 10_000 });
}

describe.runIf(executablePath)('hostile-network matrix in Chromium (UMD bundle via <script>)', () => {
  for (const m of matrix) {
    test(m.name, async () => {
      const { page, lab } = await open('umd', m.scenario, {
        transports: m.transports ?? ['ws', 'sse', 'longpoll'],
        reconnect: { base: 50, max: 500 },
      }, m.heartbeatMs ?? 5000);
      await page.waitForFunction(() => (window as unknown as { __wf: { openAt: number } }).__wf.openAt > 0, undefined, { timeout: 5000 });
      const s = await snapshot(page);
      // The rung of the first open: under random cuts the connection may already be gone again.
      const rung = s.states.find((x) => x.startsWith('open:'))?.slice(5);
      timings.push(`| ${m.name} | ${rung} | ${Math.round(s.openAt)} ms |`);
      expect(m.endsOn).toContain(rung);
      expect(s.openAt).toBeLessThan(m.budgetMs);
      if (m.left) expect(s.attempts.find((a) => a.rung === m.left!.rung)).toMatchObject({ reason: m.left.browser });
      // The upgrade really reached the server stripped, and the page still fell through.
      if (m.scenario.kind === 'strip-upgrade') {
        expect(lab.stats.upgradesStripped).toBeGreaterThan(0);
        expect(s.states).not.toContain('closed');
      }
      if (m.settlesOn) {
        await page.waitForFunction((want) => (window as unknown as { __client: { rung: string } }).__client.rung === want, m.settlesOn, { timeout: SETTLE_MS });
      }
      if (m.idleFirstMs) await page.waitForTimeout(m.idleFirstMs);
      await exchange(page, 0, m.cuts ? 300 : 100, m.cuts ? 3000 : 200);
      const after = await snapshot(page);
      expect(after.echoes).toEqual(Array.from({ length: after.echoes.length }, (_, i) => i));
      if (m.cuts) {
        expect(lab.stats.cuts).toBeGreaterThan(0);
        expect(after.opens).toBeGreaterThan(1);
        // Cut after cut, the page keeps coming back to WebSocket rather than staying down (a rung
        // cut while connecting waits for the climb, so give it the climb's time).
        await page.waitForFunction(() => (window as unknown as { __client: { attempts: { outcome: string; rung: string }[] } }).__client.attempts.some((a) => a.outcome === 'verified' && a.rung === 'ws'), undefined, { timeout: SETTLE_MS });
      }
    }, 40_000);
  }

  test('a proxy demanding authentication (407): the page sees a network error, and no retry storm', async () => {
    const { page, lab } = await open('umd', { kind: 'proxy-auth' }, { transports: ['ws', 'sse', 'longpoll'] });
    await page.waitForFunction(() => (window as unknown as { __wf: { errors: unknown[] } }).__wf.errors.length > 0, undefined, { timeout: 5000 });
    await page.waitForTimeout(2000);
    const s = await snapshot(page);
    // Chromium hides the 407 from pages (net::ERR_UNEXPECTED_PROXY_AUTH): a network error is all it says.
    expect(['WF_NETWORK', 'WF_PROXY_AUTH']).toContain(s.errors[0]!.code);
    const st = lab.stats;
    expect(st.connections.ws + st.connections.http + st.connections.sse).toBeLessThan(30);
    expect(s.state).toBe('connecting');
  });
});

describe.runIf(executablePath)('Chromium with the ES module build', () => {
  test('clean network: WebSocket, messages both ways', async () => {
    const { page } = await open('esm', { kind: 'pass' }, { transports: ['ws', 'sse', 'longpoll'] });
    await page.waitForFunction(() => (window as unknown as { __wf: { openAt: number } }).__wf.openAt > 0, undefined, { timeout: 5000 });
    // On a busy machine the race may open SSE first; a clean network must still settle on WebSocket.
    await page.waitForFunction(() => (window as unknown as { __client: { rung: string } }).__client.rung === 'ws', undefined, { timeout: SETTLE_MS });
    await exchange(page, 0, 100, 100);
  });

  test('frames dropped after the upgrade: falls back, then climbs back when the lab passes again', async () => {
    const { page, lab } = await open('esm', { kind: 'drop-frames' }, { transports: ['ws', 'sse', 'longpoll'], upgradeProbe: { first: 300, max: 600 } });
    await page.waitForFunction(() => (window as unknown as { __wf: { openAt: number } }).__wf.openAt > 0, undefined, { timeout: 5000 });
    expect((await snapshot(page)).rung).toBe('sse');
    lab.setScenario({ kind: 'pass' });
    const flowing = exchange(page, 0, 300, 1500);
    await page.waitForFunction(() => (window as unknown as { __client: { rung: string } }).__client.rung === 'ws', undefined, { timeout: 5000 });
    await flowing;
    const s = await snapshot(page);
    expect(s.echoes).toEqual(Array.from({ length: 300 }, (_, i) => i));
  });
});
