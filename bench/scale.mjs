// `npm run bench` scale section (also `npm run bench -- --only=scale`): the Redis store beside the
// memory store, and how many connections three nodes hold. Every server node, the balancer and
// the load generators are processes of their own (bench/server.mjs, bench/balancer.mjs,
// bench/load.mjs); redis-server is Debian's, started on a free loopback port (lab/redis.ts).
// Method and numbers: docs/benchmarks.md, "Scale".
import { execSync } from 'node:child_process';
import os from 'node:os';
import { startRedis } from '../dist/lab.mjs';
import { spread, sleep } from './lib/common.mjs';
import { startClient, startHelper, startServer } from './lib/procs.mjs';

const RUNGS = ['ws', 'sse', 'longpoll'];
const LAT = { warmup: { ws: 1000, sse: 200, longpoll: 200 }, samples: { ws: 1000, sse: 200, longpoll: 200 } };
const BURST = 5000;
const REPS = 3;
const IDLE = 1000;
/**
 * Capacity steps (total clients), three generators; a step fails past these bounds. Finer where
 * the default heartbeat's limit lies on this machine (between 4,000 and 6,000).
 */
const TOTALS = process.env.WF_SCALE_TOTALS?.split(',').map(Number) ?? [2000, 4000, 5000, 6000, 7000, 8000, 9000, 10_000];
const MAX_CLIENTS = TOTALS.at(-1);
const PROBE_MS = 6000;
/** WF_SCALE_TOTALS=4000,5000 and WF_SCALE_HEARTBEATS=5000 run fewer steps (an A/B with WIREFALL_DIST). */
const HEARTBEATS = process.env.WF_SCALE_HEARTBEATS?.split(',').map(Number) ?? [5000, 20_000];
const BOUND = { p99: 1000, openShare: 0.99 };
/** The open-file limit the scale section's processes get, where the run may raise it (prlimit). */
const NOFILE = 65_536;

/** The nodes of one store: memory (one node) or redis (three), behind the round-robin balancer. */
export async function fleet(store, redisUrl, heartbeatMs) {
  const nodes = [];
  for (let i = 0; i < (store === 'redis' ? 3 : 1); i++) nodes.push(await startServer('wirefall', { cpu: null, redis: store === 'redis' ? redisUrl : undefined, nofile: NOFILE, heartbeatMs }));
  const balancer = await startHelper('balancer.mjs', { ports: nodes.map((n) => n.port) }, [], { nofile: NOFILE });
  return {
    nodes,
    balancer,
    url: `http://127.0.0.1:${balancer.port}/wirefall`,
    async stop() {
      await balancer.call('exit').catch(() => {});
      await Promise.all([balancer.stop(), ...nodes.map((n) => n.stop())]);
    },
  };
}

async function roundTrips(store, redisUrl, log) {
  const out = {};
  const f = await fleet(store, redisUrl);
  try {
    for (const rung of RUNGS) {
      const client = await startClient({ cpu: null });
      try {
        const r = await client.call('suite', { lib: 'wirefall', rung, url: f.url, warmup: LAT.warmup[rung], samples: LAT.samples[rung], n: BURST, reps: REPS });
        out[rung] = { p50: r.lat.p50, p99: r.lat.p99, s2c: spread(r.s2c).median, c2s: spread(r.c2s).median };
        log(`scale ${store} ${rung}: rtt p50 ${r.lat.p50.toFixed(2)} p99 ${r.lat.p99.toFixed(2)} ms, s2c ${Math.round(out[rung].s2c)} c2s ${Math.round(out[rung].c2s)} msg/s`);
      } catch (err) {
        out[rung] = { error: String(err.message ?? err).split('\n')[0] };
        log(`scale ${store} ${rung}: FAILED ${out[rung].error}`);
      } finally {
        await client.stop();
      }
    }
  } finally {
    await f.stop();
  }
  return out;
}

async function idleMemory(store, redisUrl, log) {
  const out = {};
  for (const rung of RUNGS) {
    const server = await startServer('wirefall', { cpu: null, redis: store === 'redis' ? redisUrl : undefined });
    const client = await startClient({ cpu: null });
    const url = `http://127.0.0.1:${server.port}/wirefall`;
    try {
      await client.call('idleOpen', { lib: 'wirefall', rung, url, n: 20 });
      await client.call('idleClose');
      await sleep(300);
      const before = await server.call('memory');
      await client.call('idleOpen', { lib: 'wirefall', rung, url, n: IDLE });
      await sleep(1000);
      const after = await server.call('memory');
      out[rung] = { heap: (after.heapUsed - before.heapUsed) * (1000 / IDLE), rss: (after.rss - before.rss) * (1000 / IDLE), conns: after.conns - before.conns };
      log(`scale memory ${store} ${rung}: +${(out[rung].heap / 2 ** 20).toFixed(1)} MiB heap, +${(out[rung].rss / 2 ** 20).toFixed(1)} MiB RSS per 1,000 (${out[rung].conns} sessions)`);
    } catch (err) {
      out[rung] = { error: String(err.message ?? err).split('\n')[0] };
    } finally {
      await client.call('idleClose').catch(() => {});
      await Promise.all([server.stop(), client.stop()]);
    }
  }
  return out;
}

/** Ramps mixed-rung clients onto three Redis nodes until the probes' round trips leave their bound. */
async function capacity(redisUrl, log, heartbeatMs) {
  const f = await fleet('redis', redisUrl, heartbeatMs);
  const gens = await Promise.all([0, 1, 2].map(() => startHelper('load.mjs', {}, ['--max-old-space-size=2048'], { nofile: NOFILE })));
  const limit = Math.min(f.balancer.nofile, ...f.nodes.map((n) => n.nofile), ...gens.map((g) => g.nofile));
  const steps = [];
  let stop;
  try {
    const probe = async () => {
      const [ws, lp] = await Promise.all([
        gens[0].call('probe', { url: f.url, rung: 'ws', ms: PROBE_MS }),
        gens[1].call('probe', { url: f.url, rung: 'longpoll', ms: PROBE_MS }),
      ]);
      // Infinity crosses IPC as null: a probe that got nothing back is unbounded.
      const fix = (x) => ({ ...x, p50: x.p50 ?? Infinity, p99: x.p99 ?? Infinity, max: x.max ?? Infinity });
      return { ws: fix(ws), longpoll: fix(lp) };
    };
    steps.push({ clients: 0, probe: await probe() });
    for (let i = 0; i < TOTALS.length; i++) {
      const total = TOTALS[i];
      const more = total - (TOTALS[i - 1] ?? 0);
      const t0 = Date.now();
      const opened = await Promise.all(gens.map((g) => g.call('open', { url: f.url, rungs: RUNGS, n: Math.round(more / gens.length), batch: 200 })));
      // Not open within 30 s: such a client goes on retrying (with backoff); it counts if it gets in.
      const failed = opened.reduce((n, o) => n + o.failed, 0);
      const census = async () => {
        const st = await Promise.all(gens.map((g) => g.call('status')));
        return { status: st, open: st.reduce((n, x) => n + x.open.ws + x.open.sse + x.open.longpoll, 0) };
      };
      let { status, open } = await census();
      for (const end = Date.now() + 20_000; open < total * BOUND.openShare && Date.now() < end; ({ status, open } = await census())) await sleep(1000);
      const p = await probe();
      const byRung = Object.fromEntries(RUNGS.map((r) => [r, status.reduce((n, s) => n + s.open[r], 0)]));
      const mem = await Promise.all(f.nodes.map((n) => n.call('memory')));
      const fds = await f.balancer.call('fds');
      const step = { clients: total, open, byRung, failed, probe: p, secs: (Date.now() - t0) / 1000, nodeRssMiB: mem.map((m) => Math.round(m.rss / 2 ** 20)), nodeConns: mem.map((m) => m.conns), balancerFds: fds, load: os.loadavg()[0] };
      steps.push(step);
      log(`scale capacity (heartbeat ${heartbeatMs / 1000} s) ${total}: ${open} open (${RUNGS.map((r) => `${r} ${byRung[r]}`).join(', ')}), ${failed} failed to open; probe ws p50 ${f1(p.ws.p50)} p99 ${f1(p.ws.p99)} ms, longpoll p50 ${f1(p.longpoll.p50)} p99 ${f1(p.longpoll.p99)} ms, timeouts ${p.ws.timeouts + p.longpoll.timeouts}${p.ws.error ? ` (ws probe: ${p.ws.error})` : ''}${p.longpoll.error ? ` (longpoll probe: ${p.longpoll.error})` : ''}; nodes ${step.nodeConns.join('/')} sessions, ${step.nodeRssMiB.join('/')} MiB; balancer ${fds} fds; ${step.secs.toFixed(0)} s`);
      const worst = Math.max(p.ws.p99, p.longpoll.p99);
      if (worst > BOUND.p99 || p.ws.timeouts + p.longpoll.timeouts > 0) stop = `the probes' p99 round trip passed ${BOUND.p99} ms (${worst.toFixed(0)} ms) or an echo took over 5 s`;
      else if (open < total * BOUND.openShare) stop = `${total - open} of ${total} clients not open 20 s after the step (${failed} of the step's ${more} not within 30 s)`;
      // The balancer holds ~2.3 descriptors per client (two per TCP connection; HTTP rungs use more than one).
      else if (i + 1 < TOTALS.length && fds * (TOTALS[i + 1] / total) * 1.1 > limit) stop = `the next step would pass the balancer's open-file limit (${limit}; ${fds} descriptors now)`;
      if (stop) break;
    }
    stop ??= `the bench's cap of ${MAX_CLIENTS} clients`;
  } finally {
    await Promise.all(gens.map((g) => g.call('closeAll').catch(() => {})));
    await Promise.all(gens.map((g) => g.stop()));
    await f.stop();
  }
  const held = steps.filter((s, i) => i > 0 && s.open >= s.clients * BOUND.openShare && Math.max(s.probe.ws.p99, s.probe.longpoll.p99) <= BOUND.p99 && s.probe.ws.timeouts + s.probe.longpoll.timeouts === 0).at(-1);
  return { steps, held: held?.open ?? 0, stop, nofile: limit, heartbeatMs };
}

export function fdLimit() {
  try {
    return Number(execSync('ulimit -n', { shell: '/bin/sh', encoding: 'utf8' }).trim());
  } catch {
    return NaN;
  }
}

/** The whole scale section. */
export async function runScale({ log = console.error } = {}) {
  const redis = await startRedis();
  try {
    const res = { fdLimit: fdLimit(), roundTrips: {}, memory: {} };
    // WF_SCALE_PARTS=capacity (or round,memory) runs parts of it, when working on one.
    const parts = new Set((process.env.WF_SCALE_PARTS ?? 'round,memory,capacity').split(','));
    for (const store of ['memory', 'redis']) if (parts.has('round')) res.roundTrips[store] = await roundTrips(store, redis.url, log);
    for (const store of ['memory', 'redis']) if (parts.has('memory')) res.memory[store] = await idleMemory(store, redis.url, log);
    // With the default heartbeat (5 s), and with a slower one: an idle client is not silent, and on
    // the HTTP rungs each heartbeat is requests through the balancer, forwarded between nodes.
    res.capacity = [];
    if (parts.has('capacity')) for (const hb of HEARTBEATS) res.capacity.push(await capacity(redis.url, log, hb));
    return res;
  } finally {
    await redis.close();
  }
}

const f1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : '–');
const f2 = (x) => (Number.isFinite(x) ? x.toFixed(2) : '–');
const k = (x) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '–');
const mib = (x) => (Number.isFinite(x) ? (x / 2 ** 20).toFixed(1) : '–');

/** The section as markdown. */
export function renderScale(r, env = {}) {
  const lines = [];
  lines.push(`### Scale: the Redis store beside the memory store (${env.date ?? new Date().toISOString().slice(0, 10)}, ${os.availableParallelism?.() ?? os.cpus().length} cores, node ${process.version}, \`ulimit -n\` ${r.fdLimit})`, '');
  lines.push('Round trip and throughput through the round-robin balancer: `memory` is one node, `redis` three nodes on one Redis (HTTP-rung requests that land on another node are forwarded to the one holding the session). ~100 B messages.', '');
  lines.push('| store | rung | round trip p50 (ms) | p99 (ms) | server → client (msg/s) | client → server (msg/s) |', '| --- | --- | --- | --- | --- | --- |');
  for (const store of ['memory', 'redis']) {
    for (const rung of RUNGS) {
      const x = r.roundTrips[store]?.[rung] ?? {};
      lines.push(x.error ? `| ${store} | \`${rung}\` | failed: ${x.error} | | | |` : `| ${store} | \`${rung}\` | ${f2(x.p50)} | ${f2(x.p99)} | ${k(x.s2c)} | ${k(x.c2s)} |`);
    }
  }
  lines.push('', 'Server memory per 1,000 idle sessions (one node, after GC). Sessions live in their node with either store, so the heap is the same; compare heap: the RSS delta of the Redis node is smaller only because that process had already reserved memory (the Redis client’s buffers) before the baseline:', '');
  lines.push('| store | rung | heap (MiB) | RSS (MiB) |', '| --- | --- | --- | --- |');
  for (const store of ['memory', 'redis']) {
    for (const rung of RUNGS) {
      const x = r.memory[store]?.[rung] ?? {};
      lines.push(x.error ? `| ${store} | \`${rung}\` | failed: ${x.error} | |` : `| ${store} | \`${rung}\` | ${mib(x.heap)} | ${mib(x.rss)} |`);
    }
  }
  for (const c of r.capacity) {
    lines.push('', `Capacity, **heartbeat ${c.heartbeatMs / 1000} s**${c.heartbeatMs === 5000 ? ' (the default)' : ''}: three Redis nodes behind the balancer, idle clients in equal thirds on \`ws\`, \`sse\` and \`longpoll\` from three load-generator processes, in steps to ${TOTALS.map(k).join(', ')}; two probe clients (\`ws\`, \`longpoll\`) time echo round trips for ${PROBE_MS / 1000} s after each step. Open-file limit of these processes: ${k(c.nofile)} (raised from \`ulimit -n\` ${r.fdLimit} with \`prlimit\` where the run may). **Held while responsive: ${k(c.held)} connections.** Stopped at: ${c.stop}. Responsive means: both probes' p99 ≤ ${BOUND.p99} ms with no echo over 5 s, and ≥ ${BOUND.openShare * 100} % of the clients open; \`load\` is the machine's 1-minute load average (other work on it counts).`, '');
    lines.push('| clients | open (ws / sse / longpoll) | not open within 30 s | probe ws p50 / p99 (ms) | probe longpoll p50 / p99 (ms) | sessions per node | node RSS (MiB) | balancer fds | load |', '| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
    for (const s of c.steps) {
      const p = s.probe;
      lines.push(`| ${k(s.clients)} | ${s.byRung ? `${k(s.open)} (${RUNGS.map((x) => k(s.byRung[x])).join(' / ')})` : '–'} | ${s.failed ?? '–'} | ${f1(p.ws.p50)} / ${f1(p.ws.p99)}${p.ws.timeouts ? ` (${p.ws.timeouts} timeouts)` : ''} | ${f1(p.longpoll.p50)} / ${f1(p.longpoll.p99)}${p.longpoll.timeouts ? ` (${p.longpoll.timeouts} timeouts)` : ''} | ${s.nodeConns?.join(' / ') ?? '–'} | ${s.nodeRssMiB?.join(' / ') ?? '–'} | ${s.balancerFds ?? '–'} | ${s.load?.toFixed(1) ?? '–'} |`);
    }
  }
  return lines.join('\n');
}
