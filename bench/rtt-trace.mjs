// Where the one-process round trip's time goes (npm run bench's `--worker` layout: the server in a
// worker thread, the process pinned to one core). Not part of `npm run bench`.
//   node bench/rtt-trace.mjs <raw|wirefall|distDir> count [round trips]   # per round trip, both threads
//   node bench/rtt-trace.mjs <raw|wirefall|distDir> alloc [round trips]   # bytes and GCs alone (no counting hooks)
//   node bench/rtt-trace.mjs <raw|wirefall|distDir> stalls [round trips]  # what each slow round trip met
// `count` tallies what does not depend on the machine's load: async resources by type, timer,
// JSON, Buffer and socket calls, bytes allocated (sampled), GCs. `stalls` times each round trip
// with its wall-clock start and the process's getrusage delta (CPU, context switches), and lines
// the slow ones up with both threads' GC entries: a GC of either thread, or none (on this shared
// VM a bare spin loop pinned to a core sees ~200 gaps of 0.05-5 ms a second: those are the rest).
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { median, payload, quantile } from './lib/common.mjs';
import * as hooks from './lib/rtt-hooks.mjs';

const [variant = 'wirefall', mode = 'stalls', nArg] = process.argv.slice(2);
const samples = Number(nArg ?? (mode === 'stalls' ? 20_000 : 10_000));
const lib = variant === 'raw' ? 'raw' : 'wirefall';
if (lib === 'wirefall') process.env.WIREFALL_DIST = resolve(variant === 'wirefall' ? 'dist' : variant);
try {
  // As bench/lib/procs.mjs pins the client: this thread (and the threads it starts later) on core 1.
  execFileSync('taskset', ['-p', '-c', '1', String(process.pid)], { stdio: 'ignore' });
} catch {
  console.log('(not pinned: no taskset)');
}
hooks.install(mode);
const { default: WS } = await import('ws');

const here = (f) => new URL(f, import.meta.url).href;
const worker = new Worker(`import(${JSON.stringify(here('./lib/rtt-hooks.mjs'))}).then((h) => h.install(${JSON.stringify(mode)})).then(() => import(${JSON.stringify(here('./server.mjs'))}))`, {
  eval: true,
  workerData: { lib },
});
const port = await new Promise((r, j) => (worker.on('message', (m) => m?.ready && r(m.port)), worker.once('error', j)));
const ask = (trace) =>
  new Promise((r) => {
    const f = (m) => m?.traceReply === trace && (worker.off('message', f), r(m.result));
    worker.on('message', f);
    worker.postMessage({ trace });
  });

let answer;
let send;
let close;
if (lib === 'raw') {
  const ws = new WS(`ws://127.0.0.1:${port}/`);
  ws.on('message', (d) => JSON.parse(d.toString()).k === 'echoed' && answer());
  await new Promise((r) => ws.once('open', r));
  send = (o) => ws.send(JSON.stringify(o));
  close = () => ws.close();
} else {
  const { connect } = await import(`${process.env.WIREFALL_DIST}/index.mjs`);
  const c = connect(`http://127.0.0.1:${port}/wirefall`, { WebSocket: WS, transports: ['ws'] });
  await new Promise((r) => (c.state === 'open' ? r() : c.on('state', (s) => s === 'open' && r())));
  c.subscribe('echoed', () => answer());
  send = (o) => void c.send('echo', o).catch(() => {});
  close = () => c.close();
}

/**
 * `n` sequential round trips; `trace`: before each one, the process's CPU time (µs) and involuntary
 * context switches, kept as numbers (20,000 getrusage objects alive would lengthen every scavenge).
 */
async function run(n, trace) {
  const rtts = new Float64Array(n);
  const at = new Float64Array(n);
  const cpu = new Float64Array(n + 1);
  const invol = new Float64Array(n + 1);
  const usage = (i) => {
    const r = process.resourceUsage();
    cpu[i] = r.userCPUTime + r.systemCPUTime;
    invol[i] = r.involuntaryContextSwitches;
  };
  for (let i = 0; i < n; i++) {
    if (trace) usage(i);
    const got = new Promise((r) => (answer = r));
    const t0 = performance.now();
    send(payload('echo', i));
    await got;
    rtts[i] = performance.now() - t0;
    at[i] = performance.timeOrigin + t0;
  }
  if (trace) usage(n);
  return { rtts, at, cpu, invol };
}

const stat = (rtts) => {
  const s = [...rtts].sort((a, b) => a - b);
  return `p50 ${(quantile(s, 0.5) * 1000).toFixed(1)} µs, p99 ${(quantile(s, 0.99) * 1000).toFixed(0)} µs, max ${(s[s.length - 1] * 1000).toFixed(0)} µs`;
};

await run(Number(process.env.WARMUP ?? 5000)); // warm-up, as the bench's
if (mode !== 'stalls') {
  await Promise.all([hooks.start(), ask('start')]);
  const { rtts } = await run(samples);
  const [client, server] = await Promise.all([hooks.stop(), ask('stop')]);
  console.log(`${variant}: ${samples} round trips (${mode === 'count' ? 'hooks on, times inflated' : 'heap sampling on'}): ${stat(rtts)}`);
  const keys = [...new Set([...Object.keys(client.counts), ...Object.keys(server.counts)])].sort();
  console.log(`${'per round trip'.padEnd(28)} ${'client'.padStart(8)} ${'server'.padStart(8)}`);
  const per = (x) => ((x ?? 0) / samples).toFixed(2);
  for (const k of keys) console.log(`${k.padEnd(28)} ${per(client.counts[k]).padStart(8)} ${per(server.counts[k]).padStart(8)}`);
  console.log(`${'bytes allocated (sampled)'.padEnd(28)} ${per(client.bytes).padStart(8)} ${per(server.bytes).padStart(8)}`);
  console.log(`${'bytes retained (--expose-gc)'.padEnd(28)} ${per(client.retained).padStart(8)} ${per(server.retained).padStart(8)}`);
  const g = (t, kind) => t.gcs.filter((e) => e.kind === kind);
  for (const [name, t] of [['client', client], ['server', server]]) {
    const minor = g(t, 1);
    console.log(`${name}: ${minor.length} scavenges (${minor.reduce((a, e) => a + e.ms, 0).toFixed(1)} ms), ${t.gcs.length - minor.length} other GCs; top allocations (B per round trip):`);
    for (const [fn, b] of t.top) console.log(`  ${per(b).padStart(8)}  ${fn}`);
  }
} else {
  const { rtts, at, cpu, invol } = await run(samples, true);
  const [cgc, sgc] = [hooks.gcEntries(), await ask('gcs')];
  const sorted = [...rtts].sort((a, b) => a - b);
  const p50 = quantile(sorted, 0.5);
  const slowAt = quantile(sorted, 0.99);
  const t0 = at[0];
  const inRun = (list) => list.filter((e) => e.at >= t0);
  const overlap = (list, a, b) => list.filter((e) => e.at < b && e.at + e.ms > a);
  // The two threads of one core switch in most round trips, so a context switch says little; and a
  // stall outside our process can still read as our CPU time on a VM (a bare spin loop's gaps do).
  const kinds = { 'client GC': 0, 'server GC': 0, 'no GC': 0 };
  const rows = [];
  for (let i = 0; i < samples; i++) {
    if (rtts[i] < slowAt) continue;
    const c = overlap(cgc, at[i], at[i] + rtts[i]);
    const s = overlap(sgc, at[i], at[i] + rtts[i]);
    const kind = c.length ? 'client GC' : s.length ? 'server GC' : 'no GC';
    kinds[kind]++;
    const gc = [...c, ...s].map((e) => `${e.kind}:${(e.ms * 1000).toFixed(0)}µs`).join(' ');
    rows.push(`#${i} ${(rtts[i] * 1000).toFixed(0)} µs: ${kind}${gc ? ` (${gc})` : ''}; cpu ${(cpu[i + 1] - cpu[i]).toFixed(0)} µs, invol ${invol[i + 1] - invol[i]}`);
  }
  const gcs = (list) => {
    const ms = inRun(list).map((e) => e.ms).sort((a, b) => a - b);
    return `${ms.length} (${((ms.length / samples) * 1000).toFixed(2)} per 1,000 round trips; median ${(median(ms) * 1000).toFixed(0)} µs, max ${((ms.at(-1) ?? 0) * 1000).toFixed(0)} µs)`;
  };
  console.log(`${variant}: ${samples} round trips, ${stat(rtts)}; load ${(await import('node:os')).loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  console.log(`GCs in the run: client ${gcs(cgc)}, server ${gcs(sgc)}`);
  console.log(`the ${rows.length} round trips at or over p99 (${(slowAt * 1000).toFixed(0)} µs, ${(slowAt / p50).toFixed(1)}× p50): ${Object.entries(kinds).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  for (const x of [100, 200, 500]) console.log(`  over ${x} µs: ${rtts.filter((r) => r * 1000 > x).length}`);
  if (process.env.ROWS) for (const r of rows) console.log(`  ${r}`);
  // One line to paste beside other runs': p50, p99, GCs per 1,000 round trips and their median (µs) in each thread, round trips over 100 µs.
  const line = (list) => `${((inRun(list).length / samples) * 1000).toFixed(2)}/${(median(inRun(list).map((e) => e.ms)) * 1000).toFixed(0)}`;
  // The bench's p99 is of 2,000 round trips: each such window's, to see how much one of them says.
  const windows = [];
  for (let i = 0; i + 2000 <= samples; i += 2000) windows.push(quantile([...rtts.subarray(i, i + 2000)].sort((a, b) => a - b), 0.99) * 1000);
  if (process.env.WINDOWS) console.log(`2,000-trip windows' p99 in run order: ${windows.map((x) => x.toFixed(0)).join(' ')} µs`);
  windows.sort((a, b) => a - b);
  const w = windows.length ? ` (2,000-trip windows: ${windows[0].toFixed(0)}/${median(windows).toFixed(0)}/${windows.at(-1).toFixed(0)})` : '';
  console.log(`summary ${variant} p50 ${(p50 * 1000).toFixed(1)} p99 ${(slowAt * 1000).toFixed(0)}${w} gc c ${line(cgc)} s ${line(sgc)} >100µs ${rtts.filter((r) => r > 0.1).length}`);
}
close();
await worker.terminate();
process.exit(0);
