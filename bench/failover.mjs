// `npm run bench:failover`: a node killed mid-stream, at scale. Three Redis nodes behind the
// round-robin balancer (bench/scale.mjs's fleet), idle clients in equal thirds on `ws`, `sse` and
// `longpoll` from three load generators (bench/load.mjs), and streaming clients that send a
// numbered echo every 100 ms and check what comes back. Then `kill -9` of one node: its sessions
// must be taken over from Redis by the nodes their clients resume on. Reports how long until the
// fleet is open again, and per streaming client what was lost, doubled or reordered (all must be
// 0), and how many sessions were lost. WF_FAILOVER_CLIENTS (default 5000) and
// WF_FAILOVER_STREAMS (default 30) size it. Uses dist/ (run `npm run build` first).
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { startRedis } from '../dist/lab.mjs';
import { sleep } from './lib/common.mjs';
import { startHelper, startServer } from './lib/procs.mjs';
import { fleet } from './scale.mjs';

const TOTAL = Number(process.env.WF_FAILOVER_CLIENTS ?? 5000);
const STREAMS = Number(process.env.WF_FAILOVER_STREAMS ?? 30);
const RUNGS = ['ws', 'sse', 'longpoll'];
/**
 * `kill` (default): `kill -9`, the node's connections reset at once. `stop`: SIGSTOP, a node that
 * hangs (its connections stay open and silent, the balancer still sends it new ones), then SIGCONT
 * once the others carry every client: it wakes up believing it still holds its sessions. `redis`:
 * first Redis is killed and started again empty 3 s later (every node writes its sessions again),
 * then, 10 s after that, `kill -9` of a node, whose sessions must have been written again.
 * `rolling`: a deploy. Each node in turn gets a new node beside it and is stopped with SIGTERM
 * (`server.close()` leaves its sessions in Redis, their clients resume on the others).
 */
const MODE = process.env.WF_FAILOVER_MODE ?? 'kill';
const HUNG_MS = 25_000;
const log = (m) => console.error(`[failover] ${m}`);
const sec = (ms) => (Number.isNaN(ms) ? 'more than 90 s' : `${(ms / 1000).toFixed(1)} s`);

const redis = await startRedis();
const f = await fleet('redis', redis.url);
const gens = await Promise.all([0, 1, 2].map(() => startHelper('load.mjs', {}, ['--max-old-space-size=2048'], { nofile: 65_536 })));
const census = async () => {
  const st = await Promise.all(gens.map((g) => g.call('status')));
  const lostBy = {};
  for (const x of st) for (const [r, n] of Object.entries(x.lostBy)) lostBy[r] = (lostBy[r] ?? 0) + n;
  return { open: st.reduce((n, x) => n + x.open.ws + x.open.sse + x.open.longpoll, 0), lost: st.reduce((n, x) => n + x.lost, 0), lostBy };
};
let code = 0;
/** A rolling restart's step after which the fleet was not all open again within 60 s. */
let slow = false;
try {
  const opened = await Promise.all(gens.map((g) => g.call('open', { url: f.url, rungs: RUNGS, n: Math.round(TOTAL / 3), batch: 200 })));
  const idle = opened.reduce((n, o) => n + o.ok + o.failed, 0);
  for (let end = Date.now() + 30_000; (await census()).open < idle && Date.now() < end; ) await sleep(500);
  await Promise.all(gens.map((g, i) => g.call('streamsStart', { url: f.url, rungs: RUNGS, n: Math.round(STREAMS / 3), every: 100, offset: i })));
  await sleep(5000);
  const sessions = await Promise.all(f.nodes.map((n) => n.call('count')));
  const before = await census();
  log(`${before.open} of ${idle} idle clients open, ${STREAMS} streaming; sessions per node ${sessions.join(' / ')}, load ${os.loadavg()[0].toFixed(1)}`);
  if (MODE === 'redis') {
    await redis.kill();
    await sleep(3000);
    await redis.restart();
    await sleep(10_000);
    log(`Redis killed, back empty 3 s later; 10 s on, ${(await census()).open} open; now kill -9 of a node`);
  }
  if (MODE === 'rolling') {
    for (let i = 0; i < f.nodes.length; i++) {
      const old = f.nodes[i];
      const held = await old.call('count');
      f.nodes[i] = await startServer('wirefall', { cpu: null, redis: redis.url, nofile: 65_536 });
      await f.balancer.call('ports', { ports: f.nodes.map((n) => n.port) });
      const t1 = performance.now();
      await Promise.race([old.call('exit').catch(() => {}), sleep(12_000)]);
      await old.stop();
      let all = NaN;
      for (let end = t1 + 60_000; performance.now() < end && Number.isNaN(all); ) {
        await sleep(250);
        if ((await census()).open >= idle) all = performance.now() - t1;
      }
      log(`node ${i + 1} of 3 replaced (it held ${held} sessions): all open again ${Number.isNaN(all) ? 'not within 60 s' : `${(all / 1000).toFixed(1)} s`} after its SIGTERM`);
      if (Number.isNaN(all)) slow = true;
      await sleep(3000);
    }
  }
  const victim = f.nodes[0];
  const t0 = performance.now();
  if (MODE !== 'rolling') victim.child.kill(MODE === 'stop' ? 'SIGSTOP' : 'SIGKILL');
  // How long after the failure 99 % and all of the clients were open again, counted from the
  // lowest point (a hung node's clients stay "open" until their liveness check says otherwise: up
  // to two heartbeats and a margin). A client that drops again later is not the failover's.
  let lowest = before.open;
  let lowestAt = 0;
  let back99 = NaN;
  let back = NaN;
  /** Clients open, every quarter second after the failure (printed every 2 s). */
  const trace = [];
  // A hung node wakes after HUNG_MS (healthy again as far as the balancer knows: it takes new
  // connections, and its old ones speak again), and the run watches 10 s more past that.
  const watch = MODE === 'stop' ? HUNG_MS + 10_000 : 5000;
  let woke = false;
  // (A rolling restart was measured step by step above.)
  if (MODE === 'rolling') back = back99 = 0;
  for (let end = t0 + (MODE === 'rolling' ? 0 : 90_000); performance.now() < end; ) {
    await sleep(250);
    if (MODE === 'stop' && !woke && performance.now() - t0 >= HUNG_MS) (woke = true), victim.child.kill('SIGCONT');
    const c = await census();
    const at = performance.now() - t0;
    trace.push(`${(at / 1000).toFixed(0)} s ${c.open}`);
    if (c.open < lowest) (lowest = c.open), (lowestAt = at), (back99 = back = NaN);
    if (lowestAt && Number.isNaN(back99) && c.open >= idle * 0.99) back99 = at;
    if (lowestAt && Number.isNaN(back) && c.open >= idle) back = at;
    if (!Number.isNaN(back) && at > Math.max(watch, back + 5000)) break;
  }
  if (MODE !== 'rolling') log(`open after the failure: ${trace.filter((_, i) => i % 8 === 7).join(', ')}`);
  const after = await census();
  if (MODE === 'rolling') log(`rolling restart done; idle clients that heard sessionlost: ${after.lost} ${JSON.stringify(after.lostBy)}`);
  else log(`${MODE === 'stop' ? 'stopped (then woke)' : 'killed'} a node holding ${sessions[0]} sessions: open fell to ${lowest}, all ${idle} open again after ${sec(back)} (99 % after ${sec(back99)}); idle clients that heard sessionlost: ${after.lost} ${JSON.stringify(after.lostBy)}`);
  const reports = (await Promise.all(gens.map((g) => g.call('streamsStop', { ms: 30_000 })))).flat();
  const sum = (k, rows) => rows.reduce((n, r) => n + r[k], 0);
  for (const rung of RUNGS) {
    const rows = reports.filter((r) => r.rung === rung);
    log(`${rung}: ${rows.length} streams, ${sum('sent', rows)} sent, ${sum('echoed', rows)} echoed; missing ${sum('missing', rows)}, doubled ${sum('doubled', rows)}, reordered ${sum('reordered', rows)}; sends rejected ${sum('rejected', rows)}, unsettled ${sum('sent', rows) - sum('resolved', rows) - sum('rejected', rows)}; sessionlost ${sum('sessionlost', rows)}`);
  }
  const bad = sum('missing', reports) + sum('doubled', reports) + sum('reordered', reports) + sum('rejected', reports) + sum('sessionlost', reports) + after.lost;
  if (bad > 0 || Number.isNaN(back) || slow) code = 1;
  log(code === 0 ? 'PASS: nothing lost, doubled or reordered; no session lost' : 'FAIL');
} finally {
  await Promise.all(gens.map((g) => g.call('closeAll').catch(() => {})));
  await Promise.all(gens.map((g) => g.stop()));
  await f.stop();
  await redis.close();
}
process.exit(code);
