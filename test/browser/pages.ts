import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';

/**
 * What a test page does with the library: connect with the options the test passes, and record
 * everything the page sees (states, rungs, errors, attempts, echoes) on `window.__wf`.
 */
const harness = `
window.__start = (W, url, opts) => {
  const wf = (window.__wf = { t0: performance.now(), openAt: 0, states: [], errors: [], echoes: [], opens: 0 });
  const c = (window.__client = W.connect(url, opts));
  c.on('state', (s, r) => {
    wf.states.push(s + (r ? ':' + r : ''));
    if (s === 'open') { wf.opens++; if (!wf.openAt) wf.openAt = performance.now() - wf.t0; }
  });
  c.on('error', (e) => wf.errors.push({ code: e.code, status: e.status, rung: e.rung, message: e.message }));
  c.subscribe('echoed', (d) => wf.echoes.push(d.n));
};
window.__sendEchoes = async (from, n, spreadMs) => {
  const sends = [];
  for (let b = 0; b < 10; b++) {
    for (let i = 0; i < n / 10; i++) sends.push(window.__client.send('echo', { n: from + b * (n / 10) + i }));
    await new Promise((r) => setTimeout(r, spreadMs / 10));
  }
  await Promise.all(sends);
};
window.__snapshot = () => ({ ...window.__wf, rung: window.__client.rung, state: window.__client.state, attempts: window.__client.attempts });
`;

const pages: Record<string, string> = {
  '/umd.html': `<!doctype html><meta charset="utf-8"><title>umd</title>
<script src="/dist/wirefall.umd.min.js"></script>
<script>${harness}; window.__lib = Wirefall; window.__ready = true;</script>`,
  '/esm.html': `<!doctype html><meta charset="utf-8"><title>esm</title>
<script>${harness}</script>
<script type="module">import * as W from '/dist/index.mjs'; window.__lib = W; window.__ready = true;</script>`,
};

const types: Record<string, string> = { '.js': 'text/javascript', '.mjs': 'text/javascript', '.html': 'text/html' };

/** Serves the test pages and the built library (dist/) on 127.0.0.1, port 0. */
export async function startPageServer(root: string): Promise<{ origin: string; server: Server; close(): Promise<void> }> {
  const server = createServer(async (req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const page = pages[path];
    if (page) return void res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page);
    if (!path.startsWith('/dist/')) return void res.writeHead(404).end();
    const file = normalize(join(root, path));
    if (!file.startsWith(join(root, 'dist'))) return void res.writeHead(403).end();
    try {
      res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' }).end(await readFile(file));
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    server,
    close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
}
