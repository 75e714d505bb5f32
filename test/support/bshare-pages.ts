import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';

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

const types: Record<string, string> = { '.js': 'text/javascript', '.mjs': 'text/javascript', '.html': 'text/html' };

export async function startBsharePages(root: string): Promise<{ origin: string; close(): Promise<void> }> {
  const server = createServer(async (req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const page = pages[path];
    if (page) return void res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page);
    const file = normalize(join(root, path));
    if (!path.startsWith('/dist/') || !file.startsWith(join(root, 'dist'))) return void res.writeHead(404).end();
    try {
      res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' }).end(await readFile(file));
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
}
