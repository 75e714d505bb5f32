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
import { startHelper } from './lib/procs.mjs';
import { fleet } from './scale.mjs';

const TOTAL = Number(process.env.WF_FAILOVER_CLIENTS ?? 5000);
const STREAMS = Number(process.env.WF_FAILOVER_STREAMS ?? 30);
const RUNGS = ['ws', 'sse', 'longpoll'];
const log = (m) => console.error(`[failover] ${m}`);

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
try {
  const opened = await Promise.all(gens.map((g) => g.call('open', { url: f.url, rungs: RUNGS, n: Math.round(TOTAL / 3), batch: 200 })));
  const idle = opened.reduce((n, o) => n + o.ok + o.failed, 0);
  for (let end = Date.now() + 30_000; (await census()).open < idle && Date.now() < end; ) await sleep(500);
  await Promise.all(gens.map((g, i) => g.call('streamsStart', { url: f.url, rungs: RUNGS, n: Math.round(STREAMS / 3), every: 100, offset: i })));
  await sleep(5000);
  const sessions = await Promise.all(f.nodes.map((n) => n.call('count')));
  const before = await census();
  log(`${before.open} of ${idle} idle clients open, ${STREAMS} streaming; sessions per node ${sessions.join(' / ')}, load ${os.loadavg()[0].toFixed(1)}`);
  const victim = f.nodes[0];
  const t0 = performance.now();
  victim.child.kill('SIGKILL');
  let back = NaN;
  let lowest = before.open;
  for (let end = t0 + 60_000; performance.now() < end; ) {
    await sleep(250);
    const c = await census();
    lowest = Math.min(lowest, c.open);
    if (c.open >= idle && Number.isNaN(back)) back = performance.now() - t0;
    if (!Number.isNaN(back) && performance.now() - t0 > back + 5000) break;
  }
  const after = await census();
  log(`killed a node holding ${sessions[0]} sessions: open fell to ${lowest}, all ${idle} open again after ${Number.isNaN(back) ? 'more than 60 s' : `${(back / 1000).toFixed(1)} s`}; idle clients that heard sessionlost: ${after.lost} ${JSON.stringify(after.lostBy)}`);
  const reports = (await Promise.all(gens.map((g) => g.call('streamsStop', { ms: 30_000 })))).flat();
  const sum = (k, rows) => rows.reduce((n, r) => n + r[k], 0);
  for (const rung of RUNGS) {
    const rows = reports.filter((r) => r.rung === rung);
    log(`${rung}: ${rows.length} streams, ${sum('sent', rows)} sent, ${sum('echoed', rows)} echoed; missing ${sum('missing', rows)}, doubled ${sum('doubled', rows)}, reordered ${sum('reordered', rows)}; sends rejected ${sum('rejected', rows)}, unsettled ${sum('sent', rows) - sum('resolved', rows) - sum('rejected', rows)}; sessionlost ${sum('sessionlost', rows)}`);
  }
  const bad = sum('missing', reports) + sum('doubled', reports) + sum('reordered', reports) + sum('rejected', reports) + sum('sessionlost', reports) + after.lost;
  if (bad > 0 || Number.isNaN(back)) code = 1;
  log(code === 0 ? 'PASS: nothing lost, doubled or reordered; no session lost' : 'FAIL');
} finally {
  await Promise.all(gens.map((g) => g.call('closeAll').catch(() => {})));
  await Promise.all(gens.map((g) => g.stop()));
  await f.stop();
  await redis.close();
}
process.exit(code);
