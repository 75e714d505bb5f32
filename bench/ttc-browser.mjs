// Time to the first echo in headless Chromium, cold start, through the lab: wirefall (the UMD
// bundle, defaults) against socket.io (its browser bundle, defaults: polling first, then the
// upgrade). Each trial is a fresh browser context (empty localStorage and connection pool) and a
// fresh URL, as a first page load; the message is sent right after connect. Not part of `npm run
// bench` (it needs Chromium). Method: docs/benchmarks.md.
//   node bench/ttc-browser.mjs [trials]                           # this build (dist/)
//   WIREFALL_DIST=/path/to/dist node bench/ttc-browser.mjs        # another build (before/after)
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = (process.env.WIREFALL_DIST ?? `${root}dist`).replace(/\/$/, '');
const TRIALS = Number(process.argv[2] ?? 5);
const { createServer } = await import(`file://${dist}/server.mjs`);
const { startLab } = await import(`file://${root}dist/lab.mjs`);
const { Server } = await import('socket.io');

const SCENARIOS = [
  ['clean network', { kind: 'pass' }],
  ['WebSocket refused (403)', { kind: 'refuse-upgrade', how: '403' }],
  ['WebSocket refused (TCP reset)', { kind: 'refuse-upgrade', how: 'reset' }],
  ['101 with Connection rewritten', { kind: 'rewrite-connection' }],
  ['WebSocket black-holed (upgrade hangs)', { kind: 'refuse-upgrade', how: 'hang' }],
  ['WebSocket opens, then drops frames', { kind: 'drop-frames' }],
];

const page = (lib) => `<!doctype html><meta charset="utf-8"><script src="/${lib}.js"></script><script>
window.__ttc = (url) => new Promise((resolve) => {
  const t0 = performance.now();
  const done = (r) => { resolve(r); };
  setTimeout(() => done({ ms: null }), 10000);
  if (window.Wirefall) {
    const c = Wirefall.connect(url);
    c.on('error', () => {});
    c.subscribe('echoed', () => { done({ ms: performance.now() - t0, rung: c.rung, attempts: c.attempts.map((a) => a.rung + ':' + a.outcome + (a.reason ? ':' + a.reason : '') + '+' + Math.round(a.duration)) }); c.close(); });
    c.send('echo', { n: 0 }).catch(() => {});
  } else {
    const s = io(url, { forceNew: true });
    s.on('echoed', () => { done({ ms: performance.now() - t0, rung: s.io.engine.transport.name }); s.disconnect(); });
    s.emit('echo', { n: 0 });
  }
});
</script>`;
// The page server comes first: its origin is the one the wirefall server must allow, since the
// pages talk to the labs' ports (cross-origin; without an allow-list no CORS header is sent and
// the page could not read the HTTP rungs' answers).
const files = {
  '/wirefall.html': [page('wirefall'), 'text/html'],
  '/socketio.html': [page('socketio'), 'text/html'],
  '/wirefall.js': [readFileSync(`${dist}/wirefall.umd.min.js`), 'text/javascript'],
  '/socketio.js': [readFileSync(`${root}node_modules/socket.io-client/dist/socket.io.min.js`), 'text/javascript'],
};
const pages = http.createServer((req, res) => {
  const f = files[(req.url ?? '').split('?')[0]];
  if (!f) return void res.writeHead(404).end();
  res.writeHead(200, { 'content-type': f[1] }).end(f[0]);
});
await new Promise((r) => pages.listen(0, '127.0.0.1', r));
const origin = `http://127.0.0.1:${pages.address().port}`;

// The two servers, each behind its own lab.
const wf = createServer({ logger: { warn() {}, info() {}, error() {} }, allowedOrigins: [origin] });
wf.on('connection', (conn) => conn.subscribe('echo', (d) => void conn.send('echoed', d).catch(() => {})));
const wfPort = await wf.listen(0);
const sioHttp = http.createServer();
const io = new Server(sioHttp, { cors: { origin: '*' } });
io.on('connection', (s) => s.on('echo', (d) => s.emit('echoed', d)));
await new Promise((r) => sioHttp.listen(0, '127.0.0.1', r));
const labs = {
  wirefall: await startLab({ upstream: { host: '127.0.0.1', port: typeof wfPort === 'number' ? wfPort : wfPort.port } }),
  socketio: await startLab({ upstream: { host: '127.0.0.1', port: sioHttp.address().port } }),
};


const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
let visit = 0;
async function trial(lib) {
  const ctx = await browser.newContext();
  const p = await ctx.newPage();
  await p.goto(`${origin}/${lib}.html`);
  const base = `http://127.0.0.1:${labs[lib].port}`;
  const url = lib === 'wirefall' ? `${base}/wirefall?visit=${++visit}` : base;
  const r = await p.evaluate((u) => window.__ttc(u), url);
  await ctx.close();
  return r;
}
const median = (xs) => {
  const v = xs.filter((x) => x !== null).sort((a, b) => a - b);
  return v.length ? v[v.length >> 1] : null;
};
const rows = [];
for (const [label, scenario] of SCENARIOS) {
  const cells = {};
  for (const lib of ['wirefall', 'socketio']) {
    labs[lib].setScenario({ kind: 'pass' }, { cutExisting: true });
    await trial(lib); // untimed: the page, the bundle and the JIT
    labs[lib].setScenario(scenario, { cutExisting: true });
    const rs = [];
    for (let i = 0; i < TRIALS; i++) rs.push(await trial(lib));
    const ms = rs.map((r) => (r.ms === null ? null : Math.round(r.ms)));
    cells[lib] = { median: median(ms), all: ms, rungs: [...new Set(rs.map((r) => r.rung ?? 'none'))] };
    if (process.env.VERBOSE) for (const r of rs) console.error(lib, label, Math.round(r.ms ?? -1), r.rung, (r.attempts ?? []).join(' '));
  }
  const ratio = cells.wirefall.median && cells.socketio.median ? (cells.wirefall.median / cells.socketio.median).toFixed(2) + '×' : '–';
  rows.push(`| ${label} | ${cells.wirefall.median} ms (${Math.min(...cells.wirefall.all)}–${Math.max(...cells.wirefall.all)}) ${cells.wirefall.rungs.join('/')} | ${cells.socketio.median} ms (${Math.min(...cells.socketio.all)}–${Math.max(...cells.socketio.all)}) ${cells.socketio.rungs.join('/')} | ${ratio} |`);
  console.error(rows[rows.length - 1]);
}
console.log(`Chromium ${browser.version()}, ${TRIALS} cold trials per cell, medians (min–max); build ${dist.replace(root, '')}\n`);
console.log('| network | wirefall, defaults | socket.io defaults (polling, then upgrade) | wirefall vs socket.io |');
console.log('| --- | --- | --- | --- |');
console.log(rows.join('\n'));
await browser.close();
await Promise.all([labs.wirefall.close(), labs.socketio.close()]);
await wf.close();
io.close();
pages.close();
process.exit(0);
