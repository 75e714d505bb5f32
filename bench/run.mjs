// `npm run bench`: wirefall against raw `ws` (the floor) and socket.io 4, in one run, on 127.0.0.1.
// Prints a markdown report and writes it into docs/benchmarks.md (between the generated markers)
// and bench/results/latest.json. Method: docs/benchmarks.md. Options:
//   --runs=N        repetitions of the latency/throughput suite (default 5)
//   --only=a,b      any of bundle,suite,ttc,memory,scale (default all; scale alone takes ~3–4 min)
//   --no-write      print only; leave docs/benchmarks.md alone
//   --rows=a,b      suite rows to run (default all: raw-ws,wf-ws,sio-ws,wf-sse,wf-lp,sio-poll);
//                   `--rows=http` is the HTTP rows and their baselines (raw-ws,wf-sse,wf-lp,sio-poll)
import { execSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { bundleSizes } from './bundle.mjs';
import { PAYLOAD_BYTES, spread, sleep } from './lib/common.mjs';
import { closedPort, killAll, pinning, startClient, startServer } from './lib/procs.mjs';
import { render } from './lib/report.mjs';
import { renderScale, runScale } from './scale.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const arg = (name, def) => {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  return a ? a.slice(name.length + 3) : def;
};
const RUNS = Number(arg('runs', 5));
const ONLY = new Set(arg('only', 'bundle,suite,ttc,memory,scale').split(','));
const WRITE = !process.argv.includes('--no-write');
const ROWS = arg('rows', undefined);

/** The burst size, the round trips, and the time-to-connected settings. */
const N = 20_000;
// Steady state: V8 is still compiling the libraries' code during the first few thousand messages
// of a connection (p99 1.4–2.5 ms for every library then), hence the long warm-up on WebSocket rungs.
// 20,000 timed WebSocket round trips: with 2,000, the p99 was the 20th slowest, and the machine's
// own pauses (a spin loop pinned to a core sees ~200 a second of 0.05–5 ms here) decided which side
// of that line a run fell, for every library alike (docs/benchmarks-history.md, branch p99).
const LAT = { warmupWs: 5000, warmupHttp: 500, samplesWs: 20_000, samplesHttp: 300 };
const TP_REPS = 5;
const TTC_TRIALS = 7;
const TTC_CAP = 25_000;
const TTC_SLOW = 3_000;
/** Untimed trials under the scenario before the timed ones (the client's JIT on the path it takes). */
const TTC_WARM = 3;
const IDLE = 1000;
const MEM_RUNS = 3;

const SUITE = [
  { id: 'raw-ws', lib: 'raw', rung: 'ws', label: 'raw `ws`', kind: 'ws' },
  { id: 'wf-ws', lib: 'wirefall', rung: 'ws', label: 'wirefall `ws`', kind: 'ws' },
  { id: 'sio-ws', lib: 'socketio', rung: 'websocket', label: 'socket.io `websocket`', kind: 'ws' },
  { id: 'wf-sse', lib: 'wirefall', rung: 'sse', label: 'wirefall `sse`', kind: 'http' },
  { id: 'wf-lp', lib: 'wirefall', rung: 'longpoll', label: 'wirefall `longpoll`', kind: 'http' },
  { id: 'sio-poll', lib: 'socketio', rung: 'polling', label: 'socket.io `polling`', kind: 'http' },
];

const HTTP_ROWS = ['raw-ws', 'wf-sse', 'wf-lp', 'sio-poll'];
const ROW_IDS = ROWS === 'http' ? HTTP_ROWS : ROWS?.split(',');
const RUN_SUITE = ROW_IDS ? SUITE.filter((c) => ROW_IDS.includes(c.id)) : SUITE;

const SCENARIOS = [
  { id: 'clean', label: 'clean network', scenario: { kind: 'pass' } },
  { id: 'refused-403', label: 'WebSocket refused (403)', scenario: { kind: 'refuse-upgrade', how: '403' } },
  { id: 'refused-reset', label: 'WebSocket refused (TCP reset)', scenario: { kind: 'refuse-upgrade', how: 'reset' } },
  { id: 'hang', label: 'WebSocket black-holed (upgrade hangs)', scenario: { kind: 'refuse-upgrade', how: 'hang' } },
  { id: 'drop-frames', label: 'WebSocket opens, then drops frames', scenario: { kind: 'drop-frames' } },
];
const VARIANTS = [
  { id: 'wirefall', lib: 'wirefall', label: 'wirefall, defaults' },
  { id: 'wirefall-return', lib: 'wirefall', label: 'wirefall, defaults, returning client', returning: true },
  { id: 'sio-best', lib: 'socketio', label: "socket.io `['websocket','polling']` + `tryAllTransports`" },
  { id: 'sio-default', lib: 'socketio', label: 'socket.io defaults (polling, then upgrade)' },
];

const MEMORY = [
  { id: 'raw-ws', lib: 'raw', rung: 'ws', label: 'raw `ws`' },
  { id: 'wf-ws', lib: 'wirefall', rung: 'ws', label: 'wirefall `ws`' },
  { id: 'sio-ws', lib: 'socketio', rung: 'websocket', label: 'socket.io `websocket`' },
  { id: 'wf-sse', lib: 'wirefall', rung: 'sse', label: 'wirefall `sse`' },
  { id: 'wf-lp', lib: 'wirefall', rung: 'longpoll', label: 'wirefall `longpoll`' },
  { id: 'sio-poll', lib: 'socketio', rung: 'polling', label: 'socket.io `polling`' },
];

const urlFor = (lib, port) =>
  lib === 'raw' ? `ws://127.0.0.1:${port}/` : lib === 'wirefall' ? `http://127.0.0.1:${port}/wirefall` : `http://127.0.0.1:${port}`;

const log = (...a) => console.error('[bench]', ...a);

function sh(cmd) {
  try {
    return execSync(cmd, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

function versionOf(pkg) {
  try {
    return JSON.parse(readFileSync(`${root}node_modules/${pkg}/package.json`, 'utf8')).version;
  } catch {
    return undefined;
  }
}

function machine() {
  const cpu = readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.*)$/m)?.[1] ?? os.cpus()[0]?.model;
  return {
    nproc: sh('nproc') ?? String(os.availableParallelism?.() ?? os.cpus().length),
    node: process.version,
    cpu,
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    kernel: `${os.type()} ${os.release()}`,
    loadStart: os.loadavg().map((x) => x.toFixed(2)).join(' '),
    versions: {
      wirefall: JSON.parse(readFileSync(`${root}package.json`, 'utf8')).version,
      ws: versionOf('ws'),
      'socket.io': versionOf('socket.io'),
      'socket.io-client': versionOf('socket.io-client'),
      esbuild: versionOf('esbuild'),
    },
  };
}

/** Is something listening on 127.0.0.1:port? */
function listening(port) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
    setTimeout(() => (s.destroy(), resolve(false)), 1000);
  });
}

// --- latency and throughput --------------------------------------------------------------------

async function runSuite() {
  const out = Object.fromEntries(RUN_SUITE.map((c) => [c.id, { p50: [], p99: [], s2c: [], c2s: [], errors: [], shared: { p50: [], p99: [] }, worker: { p50: [], p99: [] } }]));
  for (let run = 1; run <= RUNS; run++) {
    // Interleaved: every library once per run, so drift in the machine hits all of them alike.
    for (const c of RUN_SUITE) {
      const server = await startServer(c.lib);
      const client = await startClient();
      const t0 = Date.now();
      try {
        const r = await client.call('suite', {
          lib: c.lib,
          rung: c.rung,
          url: urlFor(c.lib, server.port),
          warmup: c.kind === 'ws' ? LAT.warmupWs : LAT.warmupHttp,
          samples: c.kind === 'ws' ? LAT.samplesWs : LAT.samplesHttp,
          n: N,
          reps: TP_REPS,
        });
        const o = out[c.id];
        o.p50.push(r.lat.p50);
        o.p99.push(r.lat.p99);
        // One number per run and direction: the median of its timed bursts.
        o.s2c.push(spread(r.s2c).median);
        o.c2s.push(spread(r.c2s).median);
        log(`run ${run}/${RUNS} ${c.label}: rtt p50 ${r.lat.p50.toFixed(3)} p99 ${r.lat.p99.toFixed(3)} ms, s2c ${r.s2c.map(Math.round).join('/')} c2s ${r.c2s.map(Math.round).join('/')} msg/s (${Date.now() - t0} ms)`);
      } catch (err) {
        out[c.id].errors.push(String(err.message ?? err).split('\n')[0]);
        log(`run ${run}/${RUNS} ${c.label}: FAILED ${err.message}`);
      } finally {
        await Promise.all([server.stop(), client.stop()]);
      }
      // The same round trips with both processes on one core: no cross-core wake-ups, so what is
      // left is the CPU each library spends on the critical path.
      if (c.kind === 'ws' && pinning()) {
        const server2 = await startServer(c.lib, { cpu: 1 });
        const client2 = await startClient({ cpu: 1 });
        try {
          const r = await client2.call('suite', {
            lib: c.lib,
            rung: c.rung,
            url: urlFor(c.lib, server2.port),
            warmup: LAT.warmupWs,
            samples: LAT.samplesWs,
            n: 0,
            reps: 0,
            dirs: [],
          });
          out[c.id].shared.p50.push(r.lat.p50);
          out[c.id].shared.p99.push(r.lat.p99);
          log(`run ${run}/${RUNS} ${c.label}, one shared core: rtt p50 ${r.lat.p50.toFixed(3)} p99 ${r.lat.p99.toFixed(3)} ms`);
        } catch (err) {
          log(`run ${run}/${RUNS} ${c.label}, one shared core: FAILED ${err.message}`);
        } finally {
          await Promise.all([server2.stop(), client2.stop()]);
        }
      }
      // One process, the server in a worker thread (an app's test harness): both ends share the
      // process's allocator and GC. Pinned to one core: unpinned, the two threads flip between
      // sharing a core (~23 µs raw) and waking each other across cores (~65 µs) run to run.
      if (c.kind === 'ws') {
        const client3 = await startClient({ cpu: 1 });
        try {
          const r = await client3.call('workerSuite', { lib: c.lib, rung: c.rung, urlTemplate: urlFor(c.lib, 'PORT'), warmup: LAT.warmupWs, samples: LAT.samplesWs });
          out[c.id].worker.p50.push(r.lat.p50);
          out[c.id].worker.p99.push(r.lat.p99);
          log(`run ${run}/${RUNS} ${c.label}, one process (server in a worker): rtt p50 ${r.lat.p50.toFixed(3)} p99 ${r.lat.p99.toFixed(3)} ms`);
        } catch (err) {
          log(`run ${run}/${RUNS} ${c.label}, one process: FAILED ${err.message}`);
        } finally {
          await client3.stop();
        }
      }
    }
  }
  return Object.fromEntries(
    RUN_SUITE.map((c) => {
      const o = out[c.id];
      const shared = o.shared.p50.length ? { p50: spread(o.shared.p50), p99: spread(o.shared.p99) } : undefined;
      const worker = o.worker.p50.length ? { p50: spread(o.worker.p50), p99: spread(o.worker.p99) } : undefined;
      return [c.id, { ...c, p50: spread(o.p50), p99: spread(o.p99), s2c: spread(o.s2c), c2s: spread(o.c2s), errors: o.errors, shared, worker }];
    }),
  );
}

// --- time to connected -------------------------------------------------------------------------

/**
 * One group = one variant under one scenario, with its own server, lab and client process.
 * Trials run one after another; a group whose first trial is still waiting after TTC_SLOW ms is
 * dominated by timeouts, so its other trials start at once, side by side, and the run moves on
 * while they wait (idle waiting costs the machine nothing, and it bounds the run's length).
 */
async function ttcGroup(v, sc, securePort) {
  const server = await startServer(v.lib, { lab: true });
  const client = await startClient();
  const url = urlFor(v.lib, server.labPort);
  const trial = () => client.call('ttc', { variant: v.id, url, cap: TTC_CAP, securePort, returning: v.returning });
  try {
    // Untimed warm-up on a clean network: module loading and JIT are not what we measure.
    await server.call('scenario', { scenario: { kind: 'pass' } });
    await trial();
    await trial();
    await server.call('scenario', { scenario: sc.scenario });
    // Untimed trials under the scenario, TTC_WARM of them for every variant, until the client's JIT
    // is in its steady state on the path this scenario takes. A returning client's first one also
    // teaches it the rung. Each trial is a fresh client (empty storage), so only the JIT is warm:
    // the clean warm-up above runs socket.io's timed path (polling first) but not wirefall's
    // fallback, and a client that had not run it was slow on its first fallback trials (client
    // CPU per trial 15-27 ms, then 9-12, steady ~8 from the fourth; 8.5 at once after six
    // fallback trials against another server; the server's CPU flat): docs/benchmarks-history.md, branch ttc.
    // A trial still waiting after TTC_SLOW is timeout-bound: it is left to finish on its own.
    for (let i = 0; i < TTC_WARM; i++) if ((await Promise.race([trial().then(() => true), sleep(TTC_SLOW)])) !== true) break;
    const first = trial();
    const quick = await Promise.race([first, sleep(TTC_SLOW).then(() => undefined)]);
    let rest;
    if (quick) {
      rest = [];
      for (let i = 1; i < TTC_TRIALS; i++) rest.push(await trial());
      return { trials: [quick, ...rest], concurrent: false };
    }
    rest = await Promise.all([first, ...Array.from({ length: TTC_TRIALS - 1 }, trial)]);
    return { trials: rest, concurrent: true };
  } finally {
    await Promise.all([server.stop(), client.stop()]);
  }
}

async function runTtc() {
  // wirefall's default ladder starts with wss on port 443; on loopback nothing listens there, so it
  // is refused at once (a real ladder step). If something does listen, point it at a closed port.
  const securePort = (await listening(443)) ? await closedPort() : undefined;
  const pending = [];
  const results = {};
  for (const sc of SCENARIOS) {
    for (const v of VARIANTS) {
      const key = `${sc.id}/${v.id}`;
      const p = ttcGroup(v, sc, securePort).then(
        (g) => {
          results[key] = summarizeTtc(g);
          log(`ttc ${sc.label} / ${v.label}: ${g.trials.map((t) => (t.ms === null ? 'never' : `${Math.round(t.ms)}@${t.rung}`)).join(', ')}`);
        },
        (err) => {
          results[key] = { error: String(err.message ?? err) };
          log(`ttc ${key}: FAILED ${err.message}`);
        },
      );
      // Wait for a group unless it turned out to be timeout-bound (then it finishes on its own).
      const raced = await Promise.race([p.then(() => 'done'), sleep(TTC_SLOW + 3000).then(() => 'slow')]);
      if (raced === 'slow') pending.push(p);
    }
  }
  await Promise.all(pending);
  return { results, securePort: securePort ?? 443, cap: TTC_CAP, trials: TTC_TRIALS, warm: TTC_WARM };
}

function summarizeTtc(g) {
  const ms = g.trials.map((t) => (t.ms === null ? Infinity : t.ms));
  const rungs = [...new Set(g.trials.map((t) => t.rung ?? 'none'))];
  const finite = ms.filter(Number.isFinite);
  const sorted = [...ms].sort((a, b) => a - b);
  const m = sorted.length >> 1;
  const med = sorted.length % 2 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2;
  return {
    median: med,
    min: Math.min(...ms),
    max: Math.max(...ms),
    failures: ms.length - finite.length,
    n: ms.length,
    rungs,
    all: ms,
    open: g.trials.map((t) => t.openMs),
    concurrent: g.concurrent,
  };
}

// --- memory ------------------------------------------------------------------------------------

async function runMemory() {
  const results = {};
  for (const c of MEMORY) {
    const rss = [];
    const heap = [];
    const errors = [];
    for (let run = 1; run <= MEM_RUNS; run++) {
      const server = await startServer(c.lib);
      const client = await startClient();
      const url = urlFor(c.lib, server.port);
      try {
        // Warm up: code paths loaded and compiled before the baseline, then let go.
        await client.call('idleOpen', { lib: c.lib, rung: c.rung, url, n: 20 });
        await client.call('idleClose');
        await sleep(300);
        const before = await server.call('memory');
        await client.call('idleOpen', { lib: c.lib, rung: c.rung, url, n: IDLE });
        await sleep(1000);
        const after = await server.call('memory');
        if (after.conns - before.conns !== IDLE) throw new Error(`server counted ${after.conns - before.conns} connections, wanted ${IDLE}`);
        rss.push((after.rss - before.rss) * (1000 / IDLE));
        heap.push((after.heapUsed - before.heapUsed) * (1000 / IDLE));
        log(`memory ${c.label} run ${run}: +${((after.rss - before.rss) / 2 ** 20).toFixed(1)} MiB RSS, +${((after.heapUsed - before.heapUsed) / 2 ** 20).toFixed(1)} MiB heap per ${IDLE}`);
      } catch (err) {
        errors.push(String(err.message ?? err).split('\n')[0]);
        log(`memory ${c.label} run ${run}: FAILED ${err.message}`);
      } finally {
        await client.call('idleClose').catch(() => {});
        await Promise.all([server.stop(), client.stop()]);
      }
    }
    results[c.id] = { ...c, rss: spread(rss), heap: spread(heap), errors };
  }
  return results;
}

// --- main --------------------------------------------------------------------------------------

async function main() {
  const started = Date.now();
  for (const f of ['dist/index.mjs', 'dist/server.mjs', 'dist/lab.mjs']) {
    if (!existsSync(`${root}${f}`)) throw new Error(`${f} is missing: run \`npm run build\` (npm run bench does)`);
  }
  const env = machine();
  // The 1-minute load average, sampled through the run: other work on the machine shows up here.
  let loadMax = os.loadavg()[0];
  const loadTimer = setInterval(() => (loadMax = Math.max(loadMax, os.loadavg()[0])), 5000);
  loadTimer.unref();
  log(`${env.nproc} cores, ${env.cpu}, node ${env.node}, load ${env.loadStart}; payload ${PAYLOAD_BYTES} B, burst ${N}`);
  env.pinned = pinning();
  const res = { env, settings: { runs: RUNS, n: N, lat: LAT, tpReps: TP_REPS, ttcTrials: TTC_TRIALS, ttcWarm: TTC_WARM, ttcCap: TTC_CAP, idle: IDLE, memRuns: MEM_RUNS, payloadBytes: PAYLOAD_BYTES } };
  if (ONLY.has('bundle')) {
    log('bundle sizes…');
    res.bundle = await bundleSizes();
  }
  if (ONLY.has('suite')) {
    log('latency and throughput…');
    res.suite = await runSuite();
  }
  if (ONLY.has('ttc')) {
    log('time to connected…');
    res.ttc = await runTtc();
  }
  if (ONLY.has('memory')) {
    log('memory per 1,000 idle connections…');
    res.memory = await runMemory();
  }
  if (ONLY.has('scale')) {
    log('scale: the Redis store beside the memory store, and capacity…');
    res.scale = await runScale({ log });
  }
  clearInterval(loadTimer);
  env.loadEnd = os.loadavg().map((x) => x.toFixed(2)).join(' ');
  env.loadMax = loadMax.toFixed(2);
  env.seconds = Math.round((Date.now() - started) / 1000);
  env.date = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  // The report (and the docs it is written into) needs every section and every suite row.
  const core = ['bundle', 'suite', 'ttc', 'memory'].every((x) => ONLY.has(x)) && !ROW_IDS;
  const md = core ? render(res, { scenarios: SCENARIOS, variants: VARIANTS }) : res.suite ? suiteSummary(res.suite) : '';
  const scaleMd = res.scale ? renderScale(res.scale, env) : '';
  console.log([md, scaleMd].filter(Boolean).join('\n\n'));
  mkdirSync(`${root}bench/results`, { recursive: true });
  writeFileSync(`${root}bench/results/latest.json`, JSON.stringify(res, (k, v) => (v === Infinity ? 'Infinity' : v), 2));
  if (WRITE && core) writeDoc(md);
  if (WRITE && scaleMd) writeDoc(scaleMd, SCALE_BEGIN, SCALE_END);
  log(`done in ${env.seconds} s`);
}

/**
 * A partial run's suite (`--only=suite`, `--rows`), which the report does not render: each row's
 * median throughput and its ratio to the row it is judged against (socket.io's transport of the
 * same kind; raw `ws` too), with the runs' spread. Never written into the docs.
 */
function suiteSummary(suite) {
  const peerOf = { 'wf-ws': 'sio-ws', 'wf-sse': 'sio-poll', 'wf-lp': 'sio-poll' };
  const k = (x) => `${Math.round(x / 1000)}k`;
  const sp = (s) => `${k(s.median)} (${k(s.min)}–${k(s.max)}, n=${s.n})`;
  const vs = (r, b, dir) => (b && b[dir].median ? ` ${(r[dir].median / b[dir].median).toFixed(2)}× ${b.id}` : '');
  return Object.values(suite)
    .map((r) => {
      const peer = suite[peerOf[r.id]];
      const raw = r.id === 'raw-ws' ? undefined : suite['raw-ws'];
      const dirs = ['s2c', 'c2s'].map((d) => `${d} ${sp(r[d])}${vs(r, peer, d)}${vs(r, raw, d)}`).join('; ');
      return `${r.id.padEnd(9)} p50 ${r.p50.median.toFixed(3)} ms p99 ${r.p99.median.toFixed(3)} ms; ${dirs}${r.errors.length ? `; ${r.errors.length} failed` : ''}`;
    })
    .join('\n');
}

const BEGIN = '<!-- bench:begin (generated by `npm run bench`; edits here are overwritten) -->';
const END = '<!-- bench:end -->';

const SCALE_BEGIN = '<!-- bench:scale:begin (generated by `npm run bench`; edits here are overwritten) -->';
const SCALE_END = '<!-- bench:scale:end -->';

function writeDoc(md, begin = BEGIN, end = END) {
  const file = `${root}docs/benchmarks.md`;
  const block = `${begin}\n${md}\n${end}`;
  let doc = existsSync(file) ? readFileSync(file, 'utf8') : `# Benchmarks\n\n${begin}\n${end}\n`;
  const a = doc.indexOf(begin);
  const b = doc.indexOf(end);
  doc = a >= 0 && b > a ? doc.slice(0, a) + block + doc.slice(b + end.length) : `${doc.trimEnd()}\n\n${block}\n`;
  writeFileSync(file, doc);
  log(`wrote ${file}`);
}

let exitCode = 0;
const onSignal = () => {
  killAll().finally(() => process.exit(130));
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);
try {
  await main();
} catch (err) {
  console.error(err);
  exitCode = 1;
} finally {
  await killAll();
}
process.exit(exitCode);
