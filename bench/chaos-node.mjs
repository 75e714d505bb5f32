// One server node of `npm run bench:chaos` (bench/chaos.mjs): wirefall on the Redis store, with an
// application that lets the orchestrator check every stream either way. Started by chaos.mjs with
// `fork(chaos-node.mjs, [JSON config])`; SIGTERM closes it gracefully (its sessions are parked in
// Redis, as in a deploy). What it does, it tells the orchestrator over IPC, one message per tick
// (sent before the tick's commit can reach Redis, so a `kill -9` cannot hide what a client saw):
// - `up` {c, i} from a client: handled (reported with the session and this node's run of it) and
//   echoed back as `echoed` {i};
// - every PUSH_MS, to each session whose client is known here: `push` {r, k}, k = 0, 1, 2, … per
//   run (a run is one Connection object: a session on this node until it ends or moves), reported
//   when queued, and again when its promise settles (resolved: the client acknowledged it);
// - every second, a broadcast `tick` {p, k} (p: this process) to every session on every node.
import { serveIpc, toParent } from './lib/common.mjs';

const dist = new URL('../dist', import.meta.url).href;
const cfg = JSON.parse(process.argv[2] ?? '{}');
const { createServer } = await import(`${dist}/server.mjs`);
const { redisStore } = await import(`${dist}/server-redis.mjs`);
const PUSH_MS = 250;
/** A bursty client is sent BURST pushes every BURST_EVERY ticks, a steady one one every tick. */
const BURST = 6;
const BURST_EVERY = 28;

const pid = process.pid;
// Log lines (info and up) go to stderr, which chaos.mjs sends to a file per node.
const say = (level) => (m, c) => process.stderr.write(`${new Date().toISOString().slice(11, 23)} [${pid} ${level}] ${m} ${c ? JSON.stringify(c) : ''}\n`);
const store = redisStore({ url: cfg.redis, prefix: 'wfchaos' });
const server = createServer({
  logger: { debug: say('debug'), info: say('info'), warn: say('warn'), error: say('error') },
  logLevel: cfg.logLevel ?? 'info',
  logRepeatMs: 0,
  // Every client comes from 127.0.0.1 and streams without pause: the limits meant for the internet are off.
  rateLimit: { session: false, ip: false },
  replay: { maxMessages: 1_000_000 },
  store,
});

let runs = 0;
/** Sessions here whose client is known: { conn, run, c, bursty, k, pending }. */
const live = new Set();
let pushing = true;
let pending = 0;
const out = [];
let flushing = false;
const report = (ev) => {
  out.push(ev);
  if (!flushing) (flushing = true), setImmediate(flush);
};
function flush() {
  flushing = false;
  // (The callback: a send racing the orchestrator's exit is no error worth dying of.)
  if (out.length && process.connected) process.send({ ev: out.splice(0) }, () => {});
}

server.on('connection', (conn) => {
  const st = { conn, run: `${pid}.${++runs}`, c: undefined, bursty: false, k: 0, tick: 0 };
  report(['open', st.run, conn.id]);
  conn.on('close', (reason) => (live.delete(st), report(['close', st.run, conn.id, reason])));
  conn.subscribe('up', (d) => {
    report(['up', st.run, conn.id, d.c, d.i]);
    if (st.c === undefined) (st.c = d.c), (st.bursty = !!d.b), live.add(st);
    void conn.send('echoed', { i: d.i }).catch(() => {});
  });
});

function push(st) {
  const k = st.k++;
  report(['push', st.run, st.conn.id, k]);
  pending++;
  st.conn.send('push', { r: st.run, k }).then(
    () => (pending--, report(['ok', st.run, k])),
    (err) => (pending--, report(['rej', st.run, k, err?.code ?? String(err)])),
  );
}

const pushTimer = setInterval(() => {
  if (!pushing) return;
  for (const st of live) {
    if (st.conn.closed) continue;
    const t = st.tick++;
    if (!st.bursty) push(st);
    else if ((t + st.c) % BURST_EVERY === 0) for (let j = 0; j < BURST; j++) push(st);
  }
}, PUSH_MS);
let ticks = 0;
const tickTimer = setInterval(() => {
  if (!pushing) return;
  const k = ticks++;
  report(['tick', pid, k]);
  server.broadcast('tick', { p: pid, k });
}, 1000);

let closing;
const close = () =>
  (closing ??= (async () => {
    clearInterval(pushTimer);
    clearInterval(tickTimer);
    await server.close();
    flush();
  })());

process.on('SIGTERM', () => void close().finally(() => setImmediate(() => process.exit(0))));

serveIpc({
  /** Stops the pushes and broadcasts (the end of a run). */
  quiet: () => ((pushing = false), true),
  /** Push promises not settled yet. */
  pending: () => pending,
  count: () => live.size,
  stats: () => ({ ...store.stats }),
  exit: async () => {
    await close();
    setImmediate(() => process.exit(0));
    return true;
  },
});

const port = await server.listen(0, '127.0.0.1');
toParent({ ready: true, port, pid });
