// One benchmark server process: raw `ws`, wirefall or socket.io, the same tiny application on each
// (echo, blast N messages down, count N messages up), optionally behind the hostile-network lab.
// Started by run.mjs with `fork(server.mjs, [JSON config])`; driven over IPC.
import http from 'node:http';
import { isMainThread, workerData } from 'node:worker_threads';
import { payload, serveIpc, sleep, toParent } from './lib/common.mjs';

// WIREFALL_DIST points at another build of wirefall (A/B experiments); default: this repo's dist/.
const dist = process.env.WIREFALL_DIST ? new URL(`file://${process.env.WIREFALL_DIST.replace(/\/$/, '')}`).href : new URL('../dist', import.meta.url).href;

// A child process gets its config as an argument; a worker thread (the one-process layout, run by
// client.mjs) as its workerData.
const cfg = isMainThread ? JSON.parse(process.argv[2] ?? '{}') : workerData;
const lib = cfg.lib;
let conns = 0;
const requests = { open: 0, poll: 0, up: 0, get: 0 };
let port;
let close;

/** The application, written once against a tiny send/on surface every library can provide. */
function app(send, on) {
  conns++;
  on('echo', (d) => {
    d.k = 'echoed';
    send('echoed', d);
  });
  on('go', (d) => {
    for (let i = 0; i < d.n; i++) send('data', payload('data', i));
  });
  let count = 0;
  on('up', (d) => {
    if (d.i === 0) count = 0;
    if (++count === d.n) send('done', { k: 'done', count });
  });
}

if (lib === 'raw') {
  const { WebSocketServer } = await import('ws');
  const server = http.createServer((req, res) => res.writeHead(404).end());
  const wss = new WebSocketServer({ server });
  wss.on('connection', (ws) => {
    const handlers = new Map();
    ws.on('message', (data) => {
      const m = JSON.parse(data.toString());
      handlers.get(m.k)?.(m);
    });
    ws.on('close', () => conns--);
    ws.on('error', () => {});
    app((k, o) => ws.send(JSON.stringify(o)), (k, fn) => handlers.set(k, fn));
  });
  port = await listen(server);
  close = async () => {
    for (const ws of wss.clients) ws.terminate();
    wss.close();
    await new Promise((r) => server.close(r));
  };
} else if (lib === 'wirefall') {
  const { createServer } = await import(`${dist}/server.mjs`);
  // The replay buffer's default bound (10,000 messages) is below the 20,000-message burst; raised
  // here (and the client outbox likewise) so the burst measures speed, not the bound. The rate
  // limits are off for the same reason: the bench opens 1,000 connections from one address, and
  // its sequential round trips send ~10,000 messages a second on one session, both far above
  // what the defaults allow a client on the internet (docs/security.md).
  // `redis`: the scale section's nodes share sessions and fan-out through Redis (bench/scale.mjs).
  const store = cfg.redis ? (await import(`${dist}/server-redis.mjs`)).redisStore({ url: cfg.redis, prefix: 'wfbench' }) : undefined;
  // WF_BENCH_LOG=1: the server's info and warnings on stderr (why a resume found no session, …).
  const say = (level) => (m, c) => process.stderr.write(`${new Date().toISOString().slice(11, 23)} [node ${process.pid} ${level}] ${m} ${c ? JSON.stringify(c) : ''}\n`);
  const logger = process.env.WF_BENCH_LOG ? { debug: say('debug'), info: say('info'), warn: say('warn'), error: say('error') } : { warn() {} };
  const server = createServer({ logger, logLevel: process.env.WF_BENCH_LOG === 'debug' ? 'debug' : process.env.WF_BENCH_LOG ? 'info' : 'warn', replay: { maxMessages: 1_000_000 }, rateLimit: { session: false, ip: false }, store, heartbeatMs: cfg.heartbeatMs, logRepeatMs: process.env.WF_BENCH_LOG ? 0 : undefined });
  server.on('connection', (conn) => {
    conn.on('close', () => conns--);
    app((k, o) => void conn.send(k, o).catch(() => {}), (k, fn) => conn.subscribe(k, fn));
  });
  // Requests by kind, for bench/idle.mjs: what an idle client costs per heartbeat.
  server.httpServer.on('request', (req) => {
    const q = new URL(req.url ?? '/', 'http://x').searchParams;
    requests[req.method !== 'POST' ? 'get' : !q.has('sid') ? 'open' : q.has('poll') ? 'poll' : 'up']++;
  });
  port = await server.listen(0);
  close = () => server.close();
} else if (lib === 'socketio') {
  const { Server } = await import('socket.io');
  const server = http.createServer();
  const io = new Server(server); // defaults, as a user would start
  io.on('connection', (socket) => {
    socket.on('disconnect', () => conns--);
    app((k, o) => socket.emit(k, o), (k, fn) => socket.on(k, fn));
  });
  port = await listen(server);
  close = async () => {
    io.disconnectSockets(true);
    await new Promise((r) => io.close(() => r()));
  };
} else {
  throw new Error(`unknown lib ${lib}`);
}

let lab;
if (cfg.lab) {
  const { startLab } = await import('../dist/lab.mjs');
  lab = await startLab({ upstream: { host: '127.0.0.1', port } });
}

function listen(server) {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server.address().port));
  });
}

async function settledMemory() {
  // Two full collections a moment apart: the second catches what finalizers freed.
  for (let i = 0; i < 3; i++) {
    globalThis.gc?.();
    await sleep(50);
  }
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers, conns };
}

serveIpc({
  scenario: ({ scenario }) => {
    lab.setScenario(scenario, { cutExisting: true });
    return true;
  },
  count: () => conns,
  /** HTTP requests to the wirefall endpoint so far, by kind (open, poll, up(link POST), get). */
  requests: () => ({ ...requests }),
  /** CPU time this process used so far, µs (user + system). */
  cpu: () => {
    const u = process.cpuUsage();
    return u.user + u.system;
  },
  memory: () => settledMemory(),
  exit: async () => {
    await lab?.close();
    // A node of a Redis fleet parks its sessions in Redis as it closes (a rolling restart in
    // bench/failover.mjs): give that its time.
    await Promise.race([close(), sleep(cfg.redis ? 10_000 : 1000)]);
    setImmediate(() => process.exit(0));
    return true;
  },
});

toParent({ ready: true, port, labPort: lab?.port });
