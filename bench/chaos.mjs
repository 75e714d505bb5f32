// `npm run bench:chaos`: faults combined. Three Redis nodes behind the round-robin balancer (as in
// bench/failover.mjs), clients each behind three hostile lab proxies of their own (one per rung,
// bench/chaos-clients.mjs) whose scenarios flip during the run, forcing rung changes down and back
// up; every client streams numbered messages both ways while nodes are killed (`kill -9`, then a
// new one), hung (SIGSTOP, then SIGCONT), replaced one by one (SIGTERM: a rolling restart) and,
// with WF_CHAOS_REDIS=1, Redis is killed and started again empty. Both ends are checked:
// - client → server: every `up` echoed once, in order (the client checks); every one handled by a
//   node, in order within each node's run of the session (the nodes report what they handled);
// - server → client: every `push` a node queued reached the client once, in order (a node that was
//   killed or hung may have lost what it had not committed: of its pushes only those the client
//   acknowledged count), and every broadcast `tick` once, in order, per node.
// Fails (exit code 1) on anything lost, doubled or reordered, a send rejected or never settled, or
// a `sessionlost`. WF_CHAOS_SECONDS (default 180), WF_CHAOS_SEED (default: from the clock; printed),
// WF_CHAOS_CLIENTS (default 48), WF_CHAOS_REDIS=1, WF_CHAOS_EVERY (seconds between node faults,
// default 30-45). Node logs and the failing clients' event logs go to a directory under the OS's
// temp dir (kept when the run fails, when a client saw a protocol error, or with WF_CHAOS_KEEP=1).
// Uses dist/ (run `npm run build` first).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { seeded, startRedis } from '../dist/lab.mjs';
import { sleep } from './lib/common.mjs';
import { killAll, startHelper } from './lib/procs.mjs';

const SECONDS = Number(process.env.WF_CHAOS_SECONDS ?? 180);
const SEED = Number(process.env.WF_CHAOS_SEED ?? Date.now() % 1_000_000);
const CLIENTS = Number(process.env.WF_CHAOS_CLIENTS ?? 48);
const REDIS_RESTART = process.env.WF_CHAOS_REDIS === '1';
/** Seconds between two node faults, drawn in this range (WF_CHAOS_EVERY=15-25 for a denser run). */
const [EVERY_MIN, EVERY_MAX] = (process.env.WF_CHAOS_EVERY ?? '30-45').split('-').map((x) => Number(x) * 1000);
/** Client processes (the clients and their labs are split between them). */
const GENS = 2;
/** Every FLIP_MS, about FLIP_SHARE of the clients get new lab scenarios. */
const FLIP_MS = 8000;
const FLIP_SHARE = 0.15;
/** Once the traffic stops, how long everything may take to be acknowledged and echoed. */
const SETTLE_MS = 60_000;
const t0 = Date.now();
const at = () => `${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s`;
const log = (m) => console.error(`[chaos ${at()}] ${m}`);
const rand = seeded(SEED);
const between = (a, b) => a + rand() * (b - a);
const pick = (xs) => xs[Math.floor(rand() * xs.length)];
const dir = fs.mkdtempSync(path.join(os.tmpdir(), `wirefall-chaos-${SEED}-`));

const pass = { kind: 'pass' };
/** What each client's three labs do (ws, sse, longpoll), by name. Seeded where they draw. */
const PROFILES = {
  clean: () => ({ ws: pass, sse: pass, longpoll: pass }),
  'ws-403': () => ({ ws: { kind: 'refuse-upgrade', how: '403' }, sse: pass, longpoll: pass }),
  'ws-hang': () => ({ ws: { kind: 'refuse-upgrade', how: 'hang' }, sse: pass, longpoll: pass }),
  'ws-dropped': () => ({ ws: { kind: 'drop-frames' }, sse: pass, longpoll: pass }),
  'sse-buffered': () => ({ ws: { kind: 'refuse-upgrade', how: 'reset' }, sse: { kind: 'buffer-sse' }, longpoll: pass }),
  'idle-cuts': () => ({ ws: { kind: 'idle-cut', ms: 3000 }, sse: { kind: 'idle-cut', ms: 3000 }, longpoll: { kind: 'idle-cut', ms: 3000 } }),
  'random-cuts': () => {
    const cuts = () => ({ kind: 'random-cuts', seed: Math.floor(rand() * 2 ** 31), meanMs: Math.round(between(1500, 5000)) });
    return { ws: cuts(), sse: cuts(), longpoll: cuts() };
  },
  'http-502': () => ({ ws: { kind: 'refuse-upgrade', how: '403' }, sse: { kind: 'gateway-error', status: 502, on: ['post', 'stream'], every: 3 }, longpoll: { kind: 'gateway-error', status: 502, on: ['post', 'poll'], every: 4 } }),
  'response-timeout': () => ({ ws: { kind: 'drop-frames' }, sse: { kind: 'response-timeout', ms: 3000 }, longpoll: { kind: 'response-timeout', ms: 3000 } }),
  'lp-cuts': () => ({ ws: { kind: 'refuse-upgrade', how: '403' }, sse: { kind: 'buffer-sse' }, longpoll: { kind: 'random-cuts', seed: Math.floor(rand() * 2 ** 31), meanMs: 1500 } }),
};
const NAMES = Object.keys(PROFILES);

// ---- the fleet -------------------------------------------------------------------------------

/** Every node process started: pid → { pid, port, tainted (killed or hung: it may lose what it did not commit), how }. */
const instances = new Map();
/** Redis outages: [from, to] (ms since the epoch). */
const outages = [];
const faults = { kill: 0, stop: 0, rolling: 0, redis: 0 };

// What the nodes report (bench/chaos-node.mjs).
/** run → { pid, sid, c, k (pushes queued), ok: Set, rej: Map k → code } */
const runs = new Map();
/** client → [[run, i], …] in the order the nodes handled them (as reported). */
const handled = new Map();
/** publisher pid → [time of tick k, …] */
const ticks = new Map();
const closes = {};
function onNode(m) {
  if (!m?.ev) return;
  for (const e of m.ev) {
    switch (e[0]) {
      case 'open':
        runs.set(e[1], { pid: Number(e[1].split('.')[0]), sid: e[2], c: undefined, k: 0, ok: new Set(), rej: new Map() });
        break;
      case 'close':
        closes[e[3]] = (closes[e[3]] ?? 0) + 1;
        break;
      case 'up': {
        const run = runs.get(e[1]);
        if (run) run.c = e[3];
        if (!handled.has(e[3])) handled.set(e[3], []);
        handled.get(e[3]).push([e[1], e[4]]);
        break;
      }
      case 'push':
        runs.get(e[1]).k = e[3] + 1;
        break;
      case 'ok':
        runs.get(e[1]).ok.add(e[2]);
        break;
      case 'rej':
        runs.get(e[1]).rej.set(e[2], e[3]);
        break;
      case 'tick':
        if (!ticks.has(e[1])) ticks.set(e[1], []);
        ticks.get(e[1])[e[2]] = Date.now();
        break;
    }
  }
}

let redis;
let balancer;
const nodes = [];
const gens = [];
async function startNode() {
  const tmp = path.join(dir, `node-starting-${Math.random().toString(36).slice(2)}.log`);
  const fd = fs.openSync(tmp, 'a');
  try {
    const n = await startHelper('chaos-node.mjs', { redis: redis.url }, [], { stderr: fd });
    n.child.on('message', onNode);
    instances.set(n.pid, { pid: n.pid, port: n.port, tainted: false, how: [] });
    fs.renameSync(tmp, path.join(dir, `node-${n.pid}.log`));
    return n;
  } finally {
    fs.closeSync(fd);
  }
}
const ports = () => balancer.call('ports', { ports: nodes.map((n) => n.port) });
const taint = (n, how) => {
  const i = instances.get(n.pid);
  i.tainted = true;
  i.how.push(how);
};

// ---- faults ------------------------------------------------------------------------------------

const FAULTS = {
  async kill() {
    const v = Math.floor(rand() * nodes.length);
    const old = nodes[v];
    const held = await count(old);
    taint(old, 'kill -9');
    old.child.kill('SIGKILL');
    const gap = between(1000, 4000);
    log(`kill -9 of node ${old.pid} (${held} sessions); a new one in ${(gap / 1000).toFixed(1)} s`);
    await sleep(gap);
    nodes[v] = await startNode();
    await ports();
    log(`node ${nodes[v].pid} started in its place`);
  },
  async stop() {
    const v = Math.floor(rand() * nodes.length);
    const n = nodes[v];
    // From shorter than the clients' liveness checks (they stay, and the node wakes to their
    // backlog and its own overdue timers) to long enough that every client left it.
    const ms = between(2000, 20_000);
    log(`SIGSTOP of node ${n.pid} (${await count(n)} sessions) for ${(ms / 1000).toFixed(1)} s`);
    taint(n, 'SIGSTOP');
    n.child.kill('SIGSTOP');
    await sleep(ms);
    n.child.kill('SIGCONT');
    log(`SIGCONT of node ${n.pid}`);
  },
  async rolling() {
    log('rolling restart: each node in turn replaced, SIGTERM');
    for (let v = 0; v < nodes.length; v++) {
      const old = nodes[v];
      const held = await count(old);
      nodes[v] = await startNode();
      await ports();
      const gone = new Promise((r) => old.child.once('exit', r));
      old.child.kill('SIGTERM');
      const ok = await Promise.race([gone.then(() => true), sleep(20_000).then(() => false)]);
      if (!ok) (taint(old, 'SIGTERM hung'), old.child.kill('SIGKILL'));
      log(`  node ${old.pid} (${held} sessions) → ${nodes[v].pid}${ok ? '' : ': not gone 20 s after SIGTERM, killed'}`);
      await sleep(3000);
    }
  },
  async redis() {
    const from = Date.now();
    log('Redis killed; started again, empty, 3 s later');
    await redis.kill();
    await sleep(3000);
    await redis.restart();
    outages.push([from, Date.now()]);
  },
};
const count = (n) => Promise.race([n.call('count'), sleep(2000).then(() => '?')]).catch(() => '?');

/**
 * When each fault happens, 30-45 s apart (WF_CHAOS_EVERY): a permutation of kill, stop and
 * rolling first, then mostly kills; the Redis restart once (WF_CHAOS_REDIS=1), in place of one of
 * the later ones.
 */
function schedule() {
  const kinds = ['kill', 'stop', 'rolling'].sort(() => rand() - 0.5);
  const out = [];
  for (let t = between(15_000, 25_000), i = 0; t < SECONDS * 1000 - 30_000; t += between(EVERY_MIN, EVERY_MAX), i++) out.push({ t, kind: kinds[i] ?? pick(['kill', 'kill', 'stop', 'rolling']) });
  if (REDIS_RESTART && out.length > 1) out[1 + Math.floor(rand() * (out.length - 1))].kind = 'redis';
  return out;
}

// ---- the checks --------------------------------------------------------------------------------

const inOutage = (ms) => outages.some(([a, b]) => ms >= a - 1000 && ms <= b + 10_000);

/** Lost, doubled and reordered in a stream of numbers that should be 0..n-1 once each, in order. */
function exact(xs, n) {
  const seen = new Set();
  let doubled = 0;
  let reordered = 0;
  let max = -1;
  for (const x of xs) {
    if (seen.has(x)) doubled++;
    else if (x < max) reordered++;
    seen.add(x);
    max = Math.max(max, x);
  }
  let lost = 0;
  for (let i = 0; i < n; i++) if (!seen.has(i)) lost++;
  return { lost, doubled, reordered };
}

function check(r) {
  const bad = [];
  const out = { idx: r.idx };
  // Echoes: 0..sent-1, once each, in order.
  out.echo = exact(r.echoes, r.sent);
  // What the nodes handled: within a run, each i one more than the last; a later run starts at most
  // one past the highest handled before (from there on the client resent); nothing missing.
  const h = handled.get(r.idx) ?? [];
  const byRun = new Map();
  for (const [run, i] of h) (byRun.get(run) ?? byRun.set(run, []).get(run)).push(i);
  let max = -1;
  const srv = { gaps: 0, backwards: 0, jumps: 0, rerun: 0, rerunAfterFault: 0, runs: byRun.size, concurrent: 0 };
  let lastRun;
  const ended = new Set();
  for (const [run, i] of h) {
    if (run !== lastRun) {
      if (ended.has(run)) srv.concurrent++;
      if (lastRun) ended.add(lastRun);
      lastRun = run;
    }
  }
  /** i → the run that handled it first. */
  const first = new Map();
  for (const [run, xs] of byRun) {
    if (xs[0] > max + 1) srv.jumps += xs[0] - max - 1;
    for (let j = 0; j < xs.length; j++) {
      if (j > 0 && xs[j] > xs[j - 1] + 1) srv.gaps += xs[j] - xs[j - 1] - 1;
      else if (j > 0 && xs[j] <= xs[j - 1]) srv.backwards++;
      const before = first.get(xs[j]);
      if (before === undefined) first.set(xs[j], run);
      else if (before !== run) {
        // Handled again on the run the session moved to: after a node that was killed or hung
        // (it had not committed it), or after a live hand-over (docs/scaling.md §5: a batch
        // handled within a commit's round trip before the hand-over runs on both nodes).
        srv.rerun++;
        if (instances.get(runs.get(before)?.pid)?.tainted) srv.rerunAfterFault++;
      }
    }
    max = Math.max(max, ...xs);
  }
  const handledSet = new Set(h.map((x) => x[1]));
  srv.missing = 0;
  for (let i = 0; i < r.sent; i++) if (!handledSet.has(i)) srv.missing++;
  out.srv = srv;
  // Pushes: per run, k increasing; runs one after the other (never back to an earlier one);
  // everything a node that was never killed nor hung queued, and everything acknowledged, arrived.
  const push = { received: r.pushes.length, lost: 0, doubled: 0, reordered: 0, ambiguous: 0, queued: 0 };
  /** What went wrong, for the failing client's details: `run:k` and how it stood. */
  const which = [];
  const got = new Map();
  const lastK = new Map();
  let cur;
  for (const [run, k] of r.pushes) {
    if (run !== cur) {
      if (got.has(run)) push.reordered++;
      cur = run;
    }
    const ks = got.get(run) ?? got.set(run, new Set()).get(run);
    if (ks.has(k)) push.doubled++, which.push(`doubled ${run}:${k}`);
    else if (k < (lastK.get(run) ?? -1)) push.reordered++, which.push(`reordered ${run}:${k}`);
    ks.add(k);
    lastK.set(run, Math.max(k, lastK.get(run) ?? -1));
  }
  for (const [run, x] of runs) {
    if (x.c !== r.idx) continue;
    const tainted = instances.get(x.pid)?.tainted;
    const ks = got.get(run) ?? new Set();
    push.queued += x.k;
    for (let k = 0; k < x.k; k++) {
      if (ks.has(k)) continue;
      const code = x.rej.get(k);
      if (x.ok.has(k) || (!tainted && (code === undefined || code === 'WF_CLOSED'))) push.lost++, which.push(`lost ${run}:${k} (${x.ok.has(k) ? 'acknowledged' : code ?? 'unsettled'}${tainted ? ', its node killed or hung' : ''})`);
      else push.ambiguous++;
    }
  }
  out.push = push;
  out.which = which;
  // Broadcast ticks: per publisher, k increasing, once each; from the first the client heard to the
  // publisher's last, nothing missing (but for a killed or hung publisher's, and Redis outages).
  const tick = { received: 0, lost: 0, doubled: 0, reordered: 0 };
  for (const [p, ks] of Object.entries(r.ticks)) {
    tick.received += ks.length;
    const e = exact(ks.map((k) => k - ks[0]), 0);
    tick.doubled += e.doubled;
    tick.reordered += e.reordered;
    const pub = ticks.get(Number(p)) ?? [];
    const seen = new Set(ks);
    if (instances.get(Number(p))?.tainted) continue;
    for (let k = ks[0]; k < pub.length; k++) if (!seen.has(k) && !inOutage(pub[k])) tick.lost++;
  }
  out.tick = tick;
  out.unsettled = r.sent - r.resolved - r.rejected;
  if (out.echo.lost || out.echo.doubled || out.echo.reordered) bad.push(`echo ${JSON.stringify(out.echo)}`);
  if (srv.gaps || srv.backwards || srv.jumps || srv.missing) bad.push(`handled ${JSON.stringify(srv)}`);
  if (push.lost || push.doubled || push.reordered) bad.push(`push ${JSON.stringify(push)}`);
  if (tick.lost || tick.doubled || tick.reordered) bad.push(`tick ${JSON.stringify(tick)}`);
  if (out.unsettled || r.rejected) bad.push(`sends: ${r.rejected} rejected ${JSON.stringify(r.rejectedBy)}, ${out.unsettled} unsettled`);
  if (r.sessionlost) bad.push(`sessionlost ${r.sessionlost} (${r.lostMessages} undelivered)`);
  out.bad = bad;
  return out;
}

// ---- the run -----------------------------------------------------------------------------------

let code = 0;
let keep = !!process.env.WF_CHAOS_KEEP;
let cleaning;
async function cleanup() {
  cleaning ??= (async () => {
    for (const n of nodes) n.child.kill('SIGCONT');
    await Promise.all(gens.map((g) => Promise.race([g.call('closeAll'), sleep(10_000)]).catch(() => {})));
    await balancer?.call('exit').catch(() => {});
    await killAll();
    await redis?.close();
  })();
  return cleaning;
}
const deadline = setTimeout(
  () => {
    log(`hard deadline (${SECONDS + 300} s) passed: everything is stopped`);
    void cleanup().finally(() => process.exit(2));
  },
  (SECONDS + 300) * 1000,
);
process.on('SIGINT', () => void cleanup().finally(() => process.exit(130)));

try {
  log(`seed ${SEED}, ${CLIENTS} clients, ${SECONDS} s${REDIS_RESTART ? ', Redis restart' : ''}; logs in ${dir}`);
  redis = await startRedis();
  for (let i = 0; i < 3; i++) nodes.push(await startNode());
  balancer = await startHelper('balancer.mjs', { ports: nodes.map((n) => n.port) });
  for (let g = 0; g < GENS; g++) gens.push(await startHelper('chaos-clients.mjs'));
  const genOf = (idx) => gens[idx % GENS];
  const profiles = Array.from({ length: CLIENTS }, (_, i) => NAMES[i % NAMES.length]).sort(() => rand() - 0.5);
  const specs = profiles.map((profile, idx) => ({ idx, profile, bursty: idx % 3 === 2, scenarios: PROFILES[profile]() }));
  await Promise.all(gens.map((g, j) => g.call('add', { upstream: balancer.port, specs: specs.filter((s) => s.idx % GENS === j) })));
  const status = async () => {
    const st = await Promise.all(gens.map((g) => g.call('status')));
    const sum = (k) => st.reduce((n, x) => n + x[k], 0);
    const open = { ws: 0, sse: 0, longpoll: 0 };
    for (const x of st) for (const r of Object.keys(open)) open[r] += x.open[r];
    return { open, down: sum('down'), sent: sum('sent'), settled: sum('settled'), echoed: sum('echoed'), waiting: sum('waiting'), pushes: sum('pushes'), cuts: sum('cuts') };
  };
  for (const end = Date.now() + 30_000; Date.now() < end && (await status()).down > 0; ) await sleep(500);
  const first = await status();
  log(`open: ${JSON.stringify(first.open)}, not open ${first.down}; profiles ${JSON.stringify(Object.fromEntries(NAMES.map((n) => [n, profiles.filter((p) => p === n).length])))}`);
  await Promise.all(gens.map((g) => g.call('go')));
  const start = Date.now();
  const plan = schedule();
  log(`faults planned: ${plan.map((f) => `${f.kind} at ${(f.t / 1000).toFixed(0)} s`).join(', ')}`);
  let flips = 0;
  const flipping = (async () => {
    while (Date.now() - start < SECONDS * 1000) {
      await sleep(FLIP_MS);
      if (Date.now() - start >= SECONDS * 1000) break;
      const calls = [];
      for (const s of specs) {
        if (rand() >= FLIP_SHARE) continue;
        s.profile = pick(NAMES);
        flips++;
        calls.push(genOf(s.idx).call('scenario', { idx: s.idx, profile: s.profile, scenarios: PROFILES[s.profile](), cut: rand() < 0.5 }));
      }
      await Promise.all(calls);
    }
  })();
  const progress = setInterval(async () => {
    const s = await status().catch(() => undefined);
    if (s) log(`open ws ${s.open.ws} sse ${s.open.sse} longpoll ${s.open.longpoll}, not open ${s.down}; sent ${s.sent}, echoed ${s.echoed}, pushes received ${s.pushes}; lab cuts ${s.cuts}; load ${os.loadavg()[0].toFixed(1)}`);
  }, 10_000);
  for (const f of plan) {
    const wait = start + f.t - Date.now();
    if (wait > 0) await sleep(wait);
    faults[f.kind]++;
    await FAULTS[f.kind]();
  }
  const rest = start + SECONDS * 1000 - Date.now();
  if (rest > 0) await sleep(rest);
  await flipping;
  clearInterval(progress);

  // The end: traffic stops; everything sent must be acknowledged, echoed and pushed home.
  await Promise.all(gens.map((g) => g.call('stop')));
  await Promise.all(nodes.map((n) => n.call('quiet').catch(() => {})));
  let last;
  const settleStart = Date.now();
  for (const end = Date.now() + SETTLE_MS; Date.now() < end; ) {
    last = await status();
    const pending = (await Promise.all(nodes.map((n) => n.call('pending').catch(() => 0)))).reduce((a, b) => a + b, 0);
    if (last.waiting === 0 && pending === 0) break;
    await sleep(500);
  }
  log(`traffic stopped; settled after ${((Date.now() - settleStart) / 1000).toFixed(1)} s (${last.waiting} clients still waiting)`);
  // Late arrivals (a duplicate would come after the last one awaited) get two more seconds.
  await sleep(2000);
  const reports = (await Promise.all(gens.map((g) => g.call('report')))).flat().sort((a, b) => a.idx - b.idx);
  const checks = reports.map(check);
  const sum = (f) => checks.reduce((n, c) => n + f(c), 0);
  const rsum = (f) => reports.reduce((n, r) => n + f(r), 0);
  const errors = {};
  for (const r of reports) for (const [k, v] of Object.entries(r.errors)) errors[k] = (errors[k] ?? 0) + v;
  const failing = checks.filter((c) => c.bad.length);
  const queued = [...runs.values()].reduce((n, x) => n + x.k, 0);
  const published = [...ticks.values()].reduce((n, x) => n + x.length, 0);
  const byPid = (kind) => [...instances.values()].filter((i) => i.how.includes(kind)).length;
  const rungChanges = rsum((r) => r.rungs.length - 1);
  const table = [
    `| seed | ${SEED} |`,
    `| clients | ${CLIENTS} (${reports.filter((r) => r.bursty).length} bursty), ${SECONDS} s of traffic |`,
    `| faults | ${faults.kill} kill -9, ${faults.stop} SIGSTOP, ${faults.rolling} rolling restarts (${faults.rolling * 3} SIGTERM), ${faults.redis} Redis restarts; ${instances.size} node processes in all |`,
    `| lab | ${flips} scenario flips, ${rsum((r) => r.cuts)} connections cut by the labs; ${rsum((r) => r.opens)} opens, ${rungChanges} rung changes |`,
    `| client → server | ${rsum((r) => r.sent)} sent, ${rsum((r) => new Set(r.echoes).size)} echoed: lost ${sum((c) => c.echo.lost)}, doubled ${sum((c) => c.echo.doubled)}, reordered ${sum((c) => c.echo.reordered)}; at the nodes: missing ${sum((c) => c.srv.missing)}, gaps ${sum((c) => c.srv.gaps + c.srv.jumps)}, backwards ${sum((c) => c.srv.backwards)}; handled again after a move ${sum((c) => c.srv.rerun)} (${sum((c) => c.srv.rerunAfterFault)} of them first handled by a node then killed or hung), runs overlapping ${sum((c) => c.srv.concurrent)} |`,
    `| server → client | ${queued} pushes queued, ${sum((c) => c.push.received)} received: lost ${sum((c) => c.push.lost)}, doubled ${sum((c) => c.push.doubled)}, reordered ${sum((c) => c.push.reordered)}; not received, from a killed or hung node and unacknowledged ${sum((c) => c.push.ambiguous)} |`,
    `| broadcasts | ${published} published, ${sum((c) => c.tick.received)} received: lost ${sum((c) => c.tick.lost)}, doubled ${sum((c) => c.tick.doubled)}, reordered ${sum((c) => c.tick.reordered)} |`,
    `| sends | rejected ${rsum((r) => r.rejected)}, unsettled ${sum((c) => c.unsettled)} |`,
    `| sessionlost | ${rsum((r) => r.sessionlost)} |`,
    `| client errors | ${JSON.stringify(errors)} |`,
    `| sessions ended at nodes | ${JSON.stringify(closes)} |`,
    `| nodes tainted | ${byPid('kill -9')} killed, ${byPid('SIGSTOP')} hung |`,
  ];
  console.log(['', '| chaos run | |', '| --- | --- |', ...table].join('\n'));
  // The rarer errors in words (the common ones are the faults themselves: disconnects, refusals, stalls).
  const COMMON = new Set(['WF_DISCONNECTED', 'WF_REFUSED', 'WF_STALLED', 'WF_UPLINK_STALLED', 'WF_NETWORK', 'WF_OPEN_TIMEOUT']);
  for (const r of reports) for (const [k, xs] of Object.entries(r.samples)) if (!COMMON.has(k)) for (const x of xs) log(`client ${r.idx} ${k} ${x}`);
  // A protocol error is a client that saw something no server should send (a gap, say): the logs stay.
  if (errors.WF_PROTOCOL) {
    keep = true;
    const odd = reports.filter((r) => r.errors.WF_PROTOCOL);
    fs.writeFileSync(path.join(dir, 'protocol.txt'), odd.map((r) => [`client ${r.idx}:`, ...r.log.map((l) => `    ${l}`)].join('\n')).join('\n') + '\n');
  }
  if (failing.length) {
    code = 1;
    const lines = [];
    for (const c of failing) {
      const r = reports.find((x) => x.idx === c.idx);
      lines.push(`client ${c.idx} (${r.profile}${r.bursty ? ', bursty' : ''}; rungs ${r.rungs.join(' → ')}; now ${r.state} ${r.rung ?? ''}): ${c.bad.join('; ')}`);
      if (c.which.length) lines.push(`    pushes: ${c.which.slice(0, 20).join(', ')}`);
      for (const l of r.log) lines.push(`    ${l}`);
      // Its sessions' runs, to find them in the node logs.
      lines.push(`    runs: ${[...runs].filter(([, x]) => x.c === c.idx).map(([run, x]) => `${run} ${x.sid} k=${x.k}${instances.get(x.pid)?.tainted ? ' (tainted)' : ''}`).join(', ')}`);
    }
    fs.writeFileSync(path.join(dir, 'failing.txt'), lines.join('\n') + '\n');
    // Everything about them, to look into: what each client got, and what the nodes said they did.
    const detail = failing.map((c) => ({ report: reports.find((x) => x.idx === c.idx), handled: handled.get(c.idx), runs: [...runs].filter(([, x]) => x.c === c.idx).map(([run, x]) => ({ run, ...x, ok: [...x.ok], rej: [...x.rej] })) }));
    fs.writeFileSync(path.join(dir, 'failing.json'), JSON.stringify({ instances: [...instances.values()], outages, detail }));
    log(`FAIL: ${failing.length} clients; ${failing.slice(0, 8).map((c) => `${c.idx}: ${c.bad.join('; ')}`).join(' | ')}`);
    log(`their event logs: ${path.join(dir, 'failing.txt')}; node logs: ${dir}`);
  } else log('PASS: nothing lost, doubled or reordered either way; every send settled; no session lost');
} catch (err) {
  code = 2;
  log(`run failed: ${err?.stack ?? err}`);
} finally {
  clearTimeout(deadline);
  await cleanup();
  if (code === 0 && !keep) fs.rmSync(dir, { recursive: true, force: true });
  else log(`logs kept in ${dir}`);
}
process.exit(code);
