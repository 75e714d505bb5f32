import { afterAll, afterEach, beforeAll } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import { CHROMIUM_FLAGS } from '../browser/chromium';
import { cleanup } from './harness';
import { servePages } from './static-pages';

/**
 * Pages for the bshare Chromium tests, with dist/ on 127.0.0.1 (port 0). `/esm.html` loads the
 * ES modules, `/umd.html` the <script> bundle; both put the library on `window.__lib` and, once
 * `__start(url, options, shared)` ran, record on `window.__wf` what the tab's client did.
 */
const harness = `
window.__start = (url, opts, shared) => {
  const W = window.__lib;
  const wf = (window.__wf = { acked: [], failed: [], errors: [] });
  const c = (window.__client = W.connect(url, shared ? { ...opts, share: W.share() } : opts));
  c.on('error', (e) => wf.errors.push(e.code));
};
window.__say = (tab, count) => {
  for (let n = 0; n < count; n++)
    window.__client.send('say', { tab, n }).then(() => window.__wf.acked.push(n), (e) => window.__wf.failed.push(n + ':' + e.code));
};
window.__view = () => ({ role: window.__client.role, state: window.__client.state, acked: window.__wf.acked, failed: window.__wf.failed, errors: window.__wf.errors, buffered: window.__client.buffered });
`;

const pages: Record<string, string> = {
  '/umd.html': `<!doctype html><meta charset="utf-8"><title>umd</title>
<script src="/dist/wirefall.umd.min.js"></script>
<script>${harness}; window.__lib = Wirefall; window.__ready = true;</script>`,
  '/esm.html': `<!doctype html><meta charset="utf-8"><title>esm</title>
<script>${harness}</script>
<script type="module">import * as W from '/dist/index.mjs'; import { share } from '/dist/share.mjs'; window.__lib = { ...W, share }; window.__ready = true;</script>`,
};

export function startBsharePages(root: string): Promise<{ origin: string; close(): Promise<void> }> {
  return servePages(root, pages);
}

/**
 * A test file's Chromium and bshare pages: launched before its tests, closed after them (and what
 * each test `track`ed, after it). Nothing runs without `executablePath` (no Chromium here).
 */
export function bshareBrowser(executablePath: string | undefined): { browser: Browser; pages: Awaited<ReturnType<typeof startBsharePages>> } {
  const world = {} as ReturnType<typeof bshareBrowser>;
  if (!executablePath) return world;
  beforeAll(async () => {
    world.browser = await chromium.launch({ executablePath, args: CHROMIUM_FLAGS });
    world.pages = await startBsharePages(process.cwd());
  });
  afterAll(async () => {
    await world.browser?.close();
    await world.pages?.close();
  });
  afterEach(cleanup);
  return world;
}
