#!/usr/bin/env node
// Screenshots of the demo (examples/chat) in a real headless Chromium, for docs/demo.md and the
// README: `npm run screenshots` (it builds first). Starts the demo on a free port, opens it in two
// tabs, chats, flips the network switches the way a person would, waits for what the page should
// then show, checks it, and saves docs/img/demo-*.png. Exits non-zero if any step did not happen.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
// SCREENSHOT_WIDTH and SCREENSHOT_DIR take the same shots at another width, elsewhere: the page
// must also hold together at a laptop's 1000 px (`SCREENSHOT_WIDTH=1000 SCREENSHOT_DIR=/tmp/shots`).
const outDir = process.env.SCREENSHOT_DIR ? resolve(process.env.SCREENSHOT_DIR) : join(root, 'docs', 'img');
const VIEWPORT = { width: Number(process.env.SCREENSHOT_WIDTH) || 1360, height: 900 };

// Same lookup and flags as the browser tests (test/browser/chromium.ts).
function findChromium() {
  for (const c of [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser']) if (c && existsSync(c)) return c;
  try {
    return execFileSync('which', ['chromium'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const executablePath = findChromium();
if (!executablePath) {
  console.error('screenshots: no Chromium found. sudo apt-get install chromium   # Debian/Ubuntu; or set CHROMIUM_PATH');
  process.exit(1);
}
for (const f of ['dist/lab.mjs', 'dist/server.mjs', 'dist/wirefall.umd.min.js']) {
  if (!existsSync(join(root, f))) {
    console.error(`screenshots: ${f} is missing; run npm run build (npm run screenshots does)`);
    process.exit(1);
  }
}
const { startDemo } = await import('../examples/chat/server.mjs');

const serverLog = [];
const demo = await startDemo({ port: 0, log: (...a) => serverLog.push(a.join(' ')) });
let browser;
const t0 = Date.now();
const say = (msg) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(5)} s] ${msg}`);
// A run that hangs is a failure too.
const watchdog = setTimeout(() => {
  console.error('screenshots: gave up after 4 minutes');
  process.exitCode = 1;
  void shutdown();
}, 240_000);

async function shutdown() {
  clearTimeout(watchdog);
  await browser?.close().catch(() => {});
  await demo.close().catch(() => {});
}

try {
  browser = await chromium.launch({ executablePath, args: FLAGS });
  const context = await browser.newContext({ viewport: VIEWPORT });
  const [one, two] = [await context.newPage(), await context.newPage()];
  for (const [p, name] of [[one, 'tab 1'], [two, 'tab 2']]) {
    p.on('pageerror', (e) => console.error(`${name}: page error: ${e.message}`));
  }
  say(`demo on ${demo.url} (wirefall through the proxies at ${demo.endpoint}); Chromium ${browser.version()}`);

  /** Waits until `fn` (run in the page) is truthy; on timeout, says what the page showed. */
  const until = async (page, what, fn, arg, timeout = 20_000) => {
    try {
      await page.waitForFunction(fn, arg, { timeout, polling: 100 });
    } catch {
      const seen = await page.evaluate(() => ({
        state: window.demo.client.state,
        rung: window.demo.client.rung,
        headline: document.getElementById('headline').textContent,
        attempts: window.demo.client.attempts.slice(-6).map((a) => `${a.rung} ${a.outcome} ${a.reason ?? ''}`),
      }));
      throw new Error(`timed out waiting for: ${what}\npage showed: ${JSON.stringify(seen, null, 2)}`);
    }
  };
  const now = (page) => page.evaluate(() => Date.now());
  /** Open on `rung`, and (if given) the latest attempt of `other` since `since` ended with `reason`. */
  const onRung = (page, rung, other, reason, since = 0) =>
    until(
      page,
      `open on ${rung}${other ? ` with ${other} → ${reason}` : ''}`,
      ([rung, other, reason, since]) => {
        const c = window.demo.client;
        if (c.state !== 'open' || c.rung !== rung) return false;
        if (!other) return true;
        const a = [...c.attempts].reverse().find((x) => x.rung === other);
        return !!a && a.startedAt >= since && a.reason === reason;
      },
      [rung, other, reason, since],
      45_000,
    );
  /** The RTT chart has a measurement taken on the rung in use. */
  const rttOn = (page, rung) =>
    until(page, `an RTT sample on ${rung}`, (r) => document.querySelector('#rtt-now small')?.textContent === `on ${r}`, rung, 20_000);
  const chat = async (page, text) => {
    await page.fill('#text', text);
    await page.press('#text', 'Enter');
  };
  const flip = (page, id) => page.click(`label.switch[data-id="${id}"]`);
  const switchIs = (page, id, on) =>
    until(page, `switch ${id} ${on ? 'on' : 'off'}`, ([id, on]) => document.querySelector(`[data-switch="${id}"]`).checked === on && document.querySelector(`label[data-id="${id}"]`).classList.contains('on') === on, [id, on]);
  const settled = (page) =>
    until(page, 'every message acknowledged', () => window.demo.client.buffered.messages === 0 && !document.querySelector('#log li.pending'), undefined, 20_000);
  /** The ladder table: every row as wide as its header, nothing clipped, and "a rung above works" only below the open rung. */
  const ladderFits = async (page) => {
    const problems = await page.evaluate(() => {
      const out = [];
      const table = document.querySelector('.ladder table');
      const headers = table.querySelectorAll('thead th').length;
      for (const tr of table.querySelectorAll('tbody tr')) {
        const span = [...tr.cells].reduce((n, td) => n + td.colSpan, 0);
        if (span !== headers) out.push(`a row spans ${span} columns under ${headers} headers`);
      }
      const card = document.querySelector('.ladder').getBoundingClientRect();
      const right = table.getBoundingClientRect().right;
      if (right > card.right) out.push(`the table ends ${Math.round(right - card.right)} px outside its card`);
      const scroller = document.querySelector('.ladder .table-scroll');
      if (scroller.scrollWidth > scroller.clientWidth) out.push(`the table is ${scroller.scrollWidth - scroller.clientWidth} px too wide for its card`);
      const c = window.demo.client;
      const order = ['wss', 'ws', 'sse', 'longpoll'];
      [...table.querySelectorAll('tbody tr')].forEach((tr, i) => {
        if (/a rung above/.test(tr.textContent) && !(c.state === 'open' && order.indexOf(c.rung) < i)) out.push(`${order[i]} says "a rung above works" while ${c.state} on ${c.rung}`);
      });
      return out;
    });
    if (problems.length) throw new Error(`ladder table at ${VIEWPORT.width} px: ${problems.join('; ')}`);
  };
  const shots = [];
  const shoot = async (name, caption) => {
    await one.uncheck('#auto');
    await settled(one);
    await one.waitForTimeout(600); // the page refreshes its panels twice a second
    await ladderFits(one);
    const file = join(outDir, `demo-${name}.png`);
    await one.screenshot({ path: file });
    shots.push({ file: relative(root, file), caption });
    say(`saved ${relative(root, file)}: ${caption}`);
  };

  mkdirSync(outDir, { recursive: true });
  await one.goto(demo.url);
  await ladderFits(one); // most likely still connecting: no rung may claim "a rung above works"
  await two.goto(demo.url);
  await two.bringToFront();
  await one.bringToFront();

  // 1. A clean network: wss (port 443) fails here, ws verifies.
  await onRung(one, 'ws', 'wss', 'WF_NETWORK');
  await onRung(two, 'ws');
  await chat(one, 'hello from the first tab');
  await chat(two, 'hi! the second tab is here too');
  await chat(one, 'now let us break the network…');
  await rttOn(one, 'ws');
  await one.waitForTimeout(4000); // a few seconds of RTT on the chart
  await shoot('clean', 'A clean network: on `ws` (`wss` fails: the demo has no TLS on port 443); messages acked; RTT from the heartbeat.');

  // 2. Security software: the upgrade passes, then every frame vanishes. Falls back to SSE.
  await one.check('#auto');
  let since = await now(one);
  await flip(one, 'drop');
  await switchIs(one, 'drop', true);
  await onRung(one, 'sse', 'ws', 'WF_NO_DATA', since);
  await chat(two, 'the other tab fell back too');
  await rttOn(one, 'sse');
  await shoot('frames-dropped', '“Drop frames after upgrade”: `ws` opens and then stays silent (`WF_NO_DATA`); the client is on SSE and nothing was lost.');

  // 3. A forward proxy refusing the upgrade with 403 (the browser sees only a network error).
  await one.check('#auto');
  await flip(one, 'drop');
  await switchIs(one, 'drop', false);
  since = await now(one);
  await flip(one, 'refuse');
  await switchIs(one, 'refuse', true);
  await onRung(one, 'sse', 'ws', 'WF_NETWORK', since);
  await rttOn(one, 'sse');
  await shoot('ws-refused', '“Refuse WebSocket upgrades”: the proxy answers 403, the browser reports a network error (`WF_NETWORK`); on SSE at once.');

  // 4. WebSocket refused and SSE held back by a buffering proxy: long-polling.
  await one.check('#auto');
  since = await now(one);
  await flip(one, 'buffer');
  await switchIs(one, 'buffer', true);
  await onRung(one, 'longpoll', 'sse', 'WF_OPEN_TIMEOUT', since);
  await chat(two, 'still getting everything over here');
  await rttOn(one, 'longpoll');
  await shoot('sse-buffered', '“Buffer SSE” with WebSocket refused: the event stream never answers (`WF_OPEN_TIMEOUT`); on long-polling.');

  // 5. Everything back to normal: the upgrade probe climbs back to ws (no reconnect needed).
  await one.check('#auto');
  await one.click('#normal');
  for (const id of ['refuse', 'buffer']) await switchIs(one, id, false);
  since = await now(one);
  await onRung(one, 'ws', 'ws', undefined, since);
  await chat(two, 'and we are back on WebSocket');
  await rttOn(one, 'ws');
  await one.waitForTimeout(3000);
  await shoot('climbed-back', 'Switches off: the upgrade probe verified `ws` again and moved the session there; every message arrived once, in order.');

  // 6. A flaky link cutting every connection after ~3 s: reconnects, resends, no duplicates.
  await one.check('#auto');
  await flip(one, 'flaky');
  await switchIs(one, 'flaky', true);
  const cutsBefore = demo.state().network.cuts;
  const start = Date.now();
  while ((demo.state().network.cuts < cutsBefore + 6 || Date.now() - start < 15_000) && Date.now() - start < 40_000) await one.waitForTimeout(500);
  if (demo.state().network.cuts < cutsBefore + 6) throw new Error('the flaky link cut fewer than 6 connections in 40 s');
  await until(one, 'open', () => window.demo.client.state === 'open');
  await shoot('flaky-link', '“Flaky link”: every connection is cut after ~3 s on average; the client resumes each time, resends what was not acknowledged, drops duplicates.');
  await flip(one, 'flaky');
  await switchIs(one, 'flaky', false);
  await onRung(one, 'ws');

  // Exactly once, in order, in both tabs.
  for (const [p, name] of [[one, 'tab 1'], [two, 'tab 2']]) {
    const check = await p.evaluate(() => document.getElementById('check').textContent);
    if (!/0 duplicated · 0 missing/.test(check) || /failed|waiting/.test(check)) throw new Error(`${name}: delivery check says: ${check}`);
    say(`${name}: ${check}`);
  }
  say(`done: ${shots.length} screenshots in ${relative(root, outDir)}/`);
} catch (err) {
  process.exitCode = 1;
  console.error(`screenshots: ${err.stack ?? err}`);
  if (serverLog.length) console.error(`demo server log:\n  ${serverLog.slice(-30).join('\n  ')}`);
} finally {
  await shutdown();
}
