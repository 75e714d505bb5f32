// The demo: a broadcast chat on wirefall's reference server, reached through a chain of
// hostile-network proxies (the lab from lab/, bundled to dist/lab.mjs) that the page can
// switch on and off. `npm start` builds and runs it; docs/demo.md explains what to look at.
//
//   this page ──(wirefall: ws / sse / long-polling)──▶ security software ▶ corporate proxy
//     ▶ buffering proxy ▶ link (flaky, slow) ──▶ wirefall server (/wirefall on this port)
//   this page ──(page, /demo/* switches: direct, never through the proxies)──▶ this port
//
// Each switch is one lab proxy in the chain, so switches combine the way real middleboxes do.
import { readFile } from 'node:fs/promises';
import { createServer as createHttpServer } from 'node:http';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startLab } from '../../dist/lab.mjs';
import { createServer } from '../../dist/server.mjs';

const here = dirname(fileURLToPath(import.meta.url));

/**
 * The switches, outermost (nearest the browser) first. `scenario` is what the lab proxy does while
 * the switch is on; off is `pass`.
 */
export const SWITCHES = [
  { id: 'drop', scenario: { kind: 'drop-frames' } },
  { id: 'refuse', scenario: { kind: 'refuse-upgrade', how: '403' } },
  { id: 'buffer', scenario: { kind: 'buffer-sse' } },
  { id: 'flaky', scenario: { kind: 'random-cuts', seed: 11, meanMs: 3000 } },
  { id: 'slow', scenario: { kind: 'latency', ms: 150 } },
];

const files = {
  '/': ['index.html', 'text/html; charset=utf-8'],
  '/index.html': ['index.html', 'text/html; charset=utf-8'],
  '/app.js': ['app.js', 'text/javascript; charset=utf-8'],
  '/style.css': ['style.css', 'text/css; charset=utf-8'],
  '/wirefall.umd.min.js': ['../../dist/wirefall.umd.min.js', 'text/javascript; charset=utf-8'],
};

/**
 * Starts the demo: the chat server on `port` (0: a free one) and the proxy chain in front of its
 * `/wirefall` endpoint. Resolves with the page's URL and a `close()` that stops everything.
 *
 * `cluster` makes it one node of `npm run start:cluster` (examples/chat/cluster.mjs): no proxy
 * chain (the page reaches the endpoint through the round-robin balancer, `/wirefall` on the page's
 * origin), the Redis `store`, and the cluster's controls: `{ node, origins, nodes(), act(name, action) }`.
 */
export async function startDemo({ port = 8124, host = '127.0.0.1', log = console.log, store, metrics, cluster } = {}) {
  const http = createHttpServer((req, res) => {
    handle(req, res).catch((err) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String(err?.message ?? err));
    });
  });

  // The page's own origins: only they may open wirefall connections or flip switches.
  const origins = new Set();
  const allowed = (origin) => origins.has(origin);

  const chat = createServer({
    server: http,
    path: '/wirefall',
    allowedOrigins: allowed,
    logger: { warn: (m, c) => log(`[wirefall] ${m}`, c ?? '') },
    store,
    metrics,
  });

  // --- the chat ----------------------------------------------------------------------------
  const history = []; // the last 50 messages, for a tab that joins late
  const names = new Map(); // Connection -> name
  let nextName = 1;
  chat.on('connection', (conn) => {
    // In a cluster a session moves between nodes: its name comes from its id, so it stays.
    const name = cluster ? `guest-${conn.id.slice(0, 4)}` : `guest-${nextName++}`;
    names.set(conn, name);
    conn.on('close', () => names.delete(conn));
    conn.subscribe('say', (data) => {
      const text = String(data?.text ?? '').slice(0, 500);
      const id = String(data?.id ?? '').slice(0, 64);
      if (!text) return;
      const msg = { from: name, text, id, at: Date.now() };
      history.push(msg);
      if (history.length > 50) history.shift();
      chat.broadcast('said', msg);
    });
    void conn.send('hello', { name, history }).catch(() => {});
    if (cluster) {
      // Which node holds this tab's session; HTTP requests landing elsewhere are forwarded here.
      const tell = () => void conn.send('node', { node: cluster.node, rung: conn.rung }).catch(() => {});
      tell();
      conn.on('link', (rung) => rung && tell());
    }
  });

  // --- the hostile network: one lab proxy per switch, chained in front of /wirefall -----------
  await new Promise((ok, fail) => {
    http.once('error', fail);
    http.listen(port, host, () => {
      http.off('error', fail);
      ok();
    });
  });
  const actualPort = http.address().port;
  for (const h of new Set([host, '127.0.0.1', 'localhost'])) origins.add(`http://${h}:${actualPort}`);
  for (const o of cluster?.origins ?? []) origins.add(o);

  const labs = [];
  let upstream = { host: '127.0.0.1', port: actualPort };
  for (const sw of cluster ? [] : [...SWITCHES].reverse()) {
    const lab = await startLab({ upstream });
    labs.unshift({ ...sw, lab, on: false });
    upstream = { host: '127.0.0.1', port: lab.port };
  }
  const front = labs[0]?.lab;
  const endpoint = front ? `${front.url}/wirefall` : '/wirefall';

  const state = () => {
    const outer = front?.stats ?? { connections: { ws: 0, sse: 0, http: 0 } };
    return {
      endpoint,
      switches: Object.fromEntries(labs.map((l) => [l.id, l.on])),
      network: {
        websockets: outer.connections.ws,
        eventStreams: outer.connections.sse,
        requests: outer.connections.http,
        cuts: labs.reduce((n, l) => n + l.lab.stats.cuts, 0),
      },
      clients: [...chat.connections].map((c) => ({ name: names.get(c) ?? c.id, rung: c.rung })),
      // The node that answered this very request (each poll is a new connection: round-robin).
      ...(cluster && { node: cluster.node, nodes: cluster.nodes() }),
    };
  };

  /** Turning a switch on cuts what is open, so the effect is immediate; turning it off cuts nothing. */
  const apply = (changes) => {
    for (const l of labs) {
      const want = changes[l.id];
      if (typeof want !== 'boolean' || want === l.on) continue;
      l.on = want;
      l.lab.setScenario(want ? l.scenario : { kind: 'pass' }, { cutExisting: want });
      log(`[demo] ${l.id} ${want ? 'on' : 'off'}`);
    }
  };

  async function handle(req, res) {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/wirefall') return; // the wirefall endpoint answers
    if (path.startsWith('/demo/')) return control(req, res, path);
    const file = files[path];
    if (!file || req.method !== 'GET') return void res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    let body;
    try {
      body = await readFile(join(here, file[0]));
    } catch {
      return void res.writeHead(500, { 'content-type': 'text/plain' }).end('missing build: run npm run build');
    }
    if (path === '/' || path === '/index.html') {
      // The page learns where the realtime endpoint is (the front proxy of the chain).
      body = body.toString('utf8').replace('%WIREFALL_ENDPOINT%', endpoint);
    }
    res.writeHead(200, { 'content-type': file[1], 'cache-control': 'no-store' }).end(body);
  }

  async function control(req, res, path) {
    const send = (status, data) =>
      res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(data));
    const origin = req.headers.origin;
    if (origin !== undefined && !allowed(origin)) return send(403, { error: 'origin not allowed' });
    if (path === '/demo/state' && req.method === 'GET') {
      // A new TCP connection for every poll, so the balancer hands each to the next node.
      if (cluster) res.setHeader('connection', 'close');
      return send(200, state());
    }
    if (path === '/demo/metrics' && metrics) return metrics.handler(req, res);
    if (req.method !== 'POST') return send(405, { error: 'use POST' });
    if (path === '/demo/node' && cluster) {
      const { node, action } = await readJson(req).catch(() => ({}));
      if (!['stop', 'kill', 'start'].includes(action)) return send(400, { error: 'expected {"node": "b", "action": "stop" | "kill" | "start"}' });
      res.setHeader('connection', 'close');
      return send(200, { ...state(), nodes: await cluster.act(String(node), action) });
    }
    if (path === '/demo/cut') {
      if (!front) return send(404, { error: 'no proxies in the cluster demo' });
      front.cutAll();
      log('[demo] cut every connection');
      return send(200, state());
    }
    if (path === '/demo/scenario') {
      let changes;
      try {
        changes = await readJson(req);
      } catch (err) {
        return err.message === 'too large' ? send(413, { error: 'too large' }) : send(400, { error: 'expected JSON, e.g. {"refuse": true}' });
      }
      if (changes?.normal === true) changes = Object.fromEntries(labs.map((l) => [l.id, false]));
      apply(changes ?? {});
      return send(200, state());
    }
    return send(404, { error: 'unknown control' });
  }

  return {
    url: `http://${host}:${actualPort}/`,
    endpoint,
    port: actualPort,
    state,
    apply,
    async close() {
      await Promise.all(labs.map((l) => l.lab.close()));
      await chat.close();
      await new Promise((ok) => {
        http.close(() => ok());
        http.closeAllConnections();
      });
    },
  };
}

/** A small JSON request body (4 KiB at most). */
async function readJson(req) {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > 4096) throw new Error('too large');
  }
  return JSON.parse(body || '{}');
}

// `node examples/chat/server.mjs` (what `npm start` runs); importing this file starts nothing.
if (process.argv[1] && pathToFileURL(resolve(process.argv[1])).href === import.meta.url) {
  const port = Number(process.env.PORT ?? 8124);
  const host = process.env.HOST ?? '127.0.0.1';
  startDemo({ port, host }).then(
    (demo) => {
      console.log(`wirefall demo on ${demo.url}  (open it in two tabs; realtime traffic goes through the proxy chain at ${demo.endpoint})`);
      const stop = () => demo.close().then(() => process.exit(0));
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    },
    (err) => {
      console.error(`could not start the demo: ${err.message}`);
      process.exit(1);
    },
  );
}
