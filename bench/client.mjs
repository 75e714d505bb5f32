// One benchmark client process: opens connections with one library on one rung and measures
// from here (round trips, bursts both ways, time to connected, idle connections for the memory
// test). Started by run.mjs with `fork(client.mjs)`; driven over IPC.
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import WS from 'ws';
import { payload, quantile, serveIpc, sleep } from './lib/common.mjs';

// WIREFALL_DIST points at another build of wirefall (A/B experiments); default: this repo's dist/.
const dist = process.env.WIREFALL_DIST ? new URL(`file://${process.env.WIREFALL_DIST.replace(/\/$/, '')}`).href : new URL('../dist', import.meta.url).href;

const now = () => performance.now();
let wirefall;
let sio;
const wf = async () => (wirefall ??= await import(`${dist}/index.mjs`));
const socketio = async () => (sio ??= await import('socket.io-client'));

function withTimeout(p, ms, what) {
  let t;
  return Promise.race([p, new Promise((_, reject) => (t = setTimeout(() => reject(new Error(`${what}: no result in ${ms} ms`)), ms)))]).finally(
    () => clearTimeout(t),
  );
}

/**
 * Opens one connection and resolves with the same small surface for every library:
 * `send(kind, object)`, `on(kind, fn)`, `close()`.
 */
async function open(lib, rung, url) {
  if (lib === 'raw') {
    const ws = new WS(url);
    const handlers = new Map();
    ws.on('message', (data) => {
      const m = JSON.parse(data.toString());
      handlers.get(m.k)?.(m);
    });
    ws.on('error', () => {});
    await withTimeout(new Promise((r, j) => (ws.once('open', r), ws.once('close', () => j(new Error('closed'))))), 10_000, 'raw open');
    return { send: (k, o) => ws.send(JSON.stringify(o)), on: (k, fn) => handlers.set(k, fn), close: () => ws.close() };
  }
  if (lib === 'wirefall') {
    const { connect } = await wf();
    // Raised outbox bound: see server.mjs (the 20,000-message burst exceeds the 10,000 default).
    const c = connect(url, { WebSocket: WS, transports: [rung], outbox: { maxMessages: 1_000_000 } });
    await withTimeout(
      new Promise((r, j) => {
        if (c.state === 'open') r();
        c.on('state', (s) => (s === 'open' ? r() : s === 'closed' ? j(new Error('closed')) : undefined));
      }),
      10_000,
      `wirefall ${rung} open`,
    );
    return { send: (k, o) => void c.send(k, o).catch(() => {}), on: (k, fn) => c.subscribe(k, fn), close: () => c.close(), client: c };
  }
  if (lib === 'socketio') {
    const { io } = await socketio();
    const s = io(url, { transports: [rung], forceNew: true, reconnection: false });
    await withTimeout(new Promise((r, j) => (s.once('connect', r), s.once('connect_error', j))), 10_000, `socket.io ${rung} open`);
    return { send: (k, o) => s.emit(k, o), on: (k, fn) => s.on(k, fn), close: () => s.disconnect() };
  }
  throw new Error(`unknown lib ${lib}`);
}

/** Sequential ping-pong: `samples` round trips after `warmup`, each timed alone. */
async function latency(conn, warmup, samples) {
  let answer;
  conn.on('echoed', () => answer());
  const rtts = [];
  for (let i = 0; i < warmup + samples; i++) {
    const got = new Promise((r) => (answer = r));
    const t0 = now();
    conn.send('echo', payload('echo', i));
    await got;
    if (i >= warmup) rtts.push(now() - t0);
  }
  rtts.sort((a, b) => a - b);
  return { p50: quantile(rtts, 0.5), p99: quantile(rtts, 0.99), mean: rtts.reduce((a, b) => a + b, 0) / rtts.length };
}

/** Both burst directions on one connection. Rates are messages per second. */
function bursts(conn) {
  let down = { count: 0, target: 0, outOfOrder: 0, done: () => {} };
  conn.on('data', (m) => {
    if (m.i !== down.count) down.outOfOrder++;
    if (++down.count === down.target) down.done();
  });
  let upDone = () => {};
  conn.on('done', (m) => upDone(m));
  return {
    /** Server → client: ask for `n` messages, time until the last one arrives here. */
    async s2c(n) {
      const got = new Promise((r) => (down = { count: 0, target: n, outOfOrder: 0, done: r }));
      const t0 = now();
      conn.send('go', payload('go', n, { n }));
      await withTimeout(got, 60_000, `s2c ${n}`);
      const ms = now() - t0;
      if (down.outOfOrder) throw new Error(`${down.outOfOrder} messages out of order`);
      return (n / ms) * 1000;
    },
    /** Client → server: fire `n` messages as fast as the API takes them; time until the server says it counted n. */
    async c2s(n) {
      const got = new Promise((r) => (upDone = r));
      const t0 = now();
      for (let i = 0; i < n; i++) conn.send('up', payload('up', i, { n }));
      await withTimeout(got, 60_000, `c2s ${n}`);
      return (n / (now() - t0)) * 1000;
    },
  };
}

let visits = 0;

/** Time to connected under the lab's current scenario: connect() → first echo back. */
async function timeToConnected({ variant, url, cap, securePort, returning }) {
  const t0 = now();
  let openMs;
  let finish;
  const result = new Promise((r) => (finish = r));
  let stop;
  let rung = () => undefined;
  let attempts = () => undefined;
  const wall0 = Date.now();
  if (variant.startsWith('wirefall')) {
    const { connect } = await wf();
    // A fresh query per trial: wirefall remembers the last working rung per server URL (in-process
    // in Node, localStorage in browsers), and each trial should be a first visit, not a return.
    // `returning`: the same URL every time, so the rung learned by the previous connect is used.
    const fresh = returning ? url : `${url}${url.includes('?') ? '&' : '?'}visit=${++visits}`;
    const c = connect(fresh, { WebSocket: WS, ...(securePort ? { securePort } : {}) });
    c.on('state', (s) => s === 'open' && openMs === undefined && (openMs = now() - t0));
    c.on('error', () => {});
    c.subscribe('echoed', () => finish(now() - t0));
    c.send('echo', payload('echo', 0)).catch(() => {});
    rung = () => c.rung;
    attempts = () => c.attempts.map((a) => `${a.rung}:${a.outcome}${a.reason ? `:${a.reason}` : ''}@${Math.round(a.startedAt - wall0)}+${Math.round(a.duration)}`);
    stop = () => c.close();
  } else {
    const { io } = await socketio();
    const opts =
      variant === 'sio-best'
        ? { transports: ['websocket', 'polling'], tryAllTransports: true } // the best fallback settings
        : {}; // socket.io's default: polling first, then upgrade
    const s = io(url, { forceNew: true, ...opts });
    s.on('connect', () => openMs === undefined && (openMs = now() - t0));
    s.on('echoed', () => finish(now() - t0));
    s.emit('echo', payload('echo', 0));
    rung = () => s.io.engine?.transport?.name;
    stop = () => s.disconnect();
  }
  const timer = setTimeout(() => finish(null), cap);
  const ms = await result;
  clearTimeout(timer);
  const at = rung();
  const tried = attempts();
  stop();
  return { ms, openMs: openMs ?? null, rung: ms === null ? null : at, attempts: tried };
}

let idle = [];

serveIpc({
  async suite({ lib, rung, url, warmup, samples, n, reps, dirs = ['s2c', 'c2s'] }) {
    const conn = await open(lib, rung, url);
    try {
      const b = bursts(conn);
      const lat = await latency(conn, warmup, samples);
      // One untimed burst each way first (JIT, buffers), then `reps` timed ones each way.
      for (const d of dirs) {
        await b[d](n);
        await sleep(50);
      }
      const s2c = [];
      const c2s = [];
      for (let i = 0; i < reps; i++) {
        for (const d of dirs) {
          await sleep(50);
          (d === 's2c' ? s2c : c2s).push(await b[d](n));
        }
      }
      return { lat, s2c, c2s };
    } finally {
      conn.close();
      await sleep(50);
    }
  },
  /**
   * The one-process layout: the server runs in a worker thread of this process (as in an app's
   * test harness), so both ends share its cores and its allocator. Round trips only.
   */
  async workerSuite({ lib, rung, urlTemplate, warmup, samples }) {
    const worker = new Worker(new URL('./server.mjs', import.meta.url), { workerData: { lib } });
    try {
      const { port } = await withTimeout(
        new Promise((resolve, reject) => {
          worker.on('message', (m) => m?.ready && resolve(m));
          worker.once('error', reject);
        }),
        20_000,
        'worker server',
      );
      const conn = await open(lib, rung, urlTemplate.replace('PORT', port));
      try {
        return { lat: await latency(conn, warmup, samples) };
      } finally {
        conn.close();
        await sleep(50);
      }
    } finally {
      await worker.terminate();
    }
  },
  ttc: (args) => timeToConnected(args),
  /** CPU time this process used so far, µs (user + system). */
  cpu: () => {
    const u = process.cpuUsage();
    return u.user + u.system;
  },
  async idleOpen({ lib, rung, url, n }) {
    for (let i = 0; i < n; i += 50) {
      const batch = [];
      for (let j = i; j < Math.min(n, i + 50); j++) batch.push(open(lib, rung, url));
      idle.push(...(await Promise.all(batch)));
    }
    return idle.length;
  },
  async idleClose() {
    for (const c of idle) c.close();
    idle = [];
    await sleep(200);
    return true;
  },
});
process.send({ ready: true });
