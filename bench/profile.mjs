// Profiles one library on one rung under the bench workload, both processes at once, and prints
// where each spends its CPU (self time by function, and by file). Not part of `npm run bench`.
//   node bench/profile.mjs <raw|wirefall|socketio> <rung> [latency|s2c|c2s|all|worker] [rounds]
// `worker`: round trips in one process, the server in a worker thread (npm run bench's one-process
// layout), pinned to one core; one profile per thread.
// Profiles land in bench/results/profiles/ (open them in Chrome DevTools → Performance).
// Environment: TOP=n functions listed (25); ALLOC=1 sampled allocations by function instead of CPU
// (bench/lib/alloc-prof.mjs); GC=1 the processes' --trace-gc lines instead of a profile.
import { execFileSync, fork } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ipcCaller } from './lib/common.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const [lib = 'wirefall', rung = 'ws', what = 'all', roundsArg] = process.argv.slice(2);
const rounds = Number(roundsArg ?? 5);
const dir = `${root}bench/results/profiles/${lib}-${rung}-${what}`;
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });

// Unnamed (`worker`): Node names each thread's profile itself (one name would have both overwrite each other).
const prof = (name) => ['--cpu-prof', `--cpu-prof-dir=${dir}`, ...(name ? [`--cpu-prof-name=${name}.cpuprofile`] : []), '--cpu-prof-interval=100'];
const ready = (ch) => new Promise((r) => ch.on('message', (m) => m && m.ready && r(m)));
const urlFor = (port) => (lib === 'raw' ? `ws://127.0.0.1:${port}/` : lib === 'wirefall' ? `http://127.0.0.1:${port}/wirefall` : `http://127.0.0.1:${port}`);
if (what === 'worker') {
  const client = fork(`${root}bench/client.mjs`, [], { execArgv: prof() });
  try {
    execFileSync('taskset', ['-p', '-c', '1', String(client.pid)], { stdio: 'ignore' });
  } catch {
    console.log('(not pinned: no taskset)');
  }
  await ready(client);
  const call = ipcCaller(client);
  for (let i = 0; i < rounds; i++) {
    const r = await call('workerSuite', { lib, rung, urlTemplate: urlFor('PORT'), warmup: 2000, samples: 20_000 });
    console.log(`round ${i + 1}: p50 ${r.lat.p50.toFixed(4)} p99 ${r.lat.p99.toFixed(3)} ms`);
  }
  client.disconnect();
} else {
  const alloc = !!process.env.ALLOC;
  const opts = (name) =>
    alloc
      ? { execArgv: ['--import', `${root}bench/lib/alloc-prof.mjs`], env: { ...process.env, ALLOC_PROF: `${dir}/${name}.heapprofile` } }
      : { execArgv: process.env.GC ? ['--trace-gc'] : prof(name) };
  const server = fork(`${root}bench/server.mjs`, [JSON.stringify({ lib })], { ...opts('server'), execArgv: ['--expose-gc', ...opts('server').execArgv] });
  const client = fork(`${root}bench/client.mjs`, [], opts('client'));
  const { port } = await ready(server);
  await ready(client);
  const call = ipcCaller(client);
  const url = urlFor(port);
  const lat = what === 'latency' || what === 'all';
  const tp = what !== 'latency';
  for (let i = 0; i < rounds; i++) {
    const dirs = what === 's2c' || what === 'c2s' ? [what] : ['s2c', 'c2s'];
    const r = await call('suite', { lib, rung, url, warmup: lat ? 200 : 0, samples: lat ? 5000 : 1, n: tp ? 20_000 : 10, reps: tp ? 5 : 1, dirs });
    console.log(`round ${i + 1}: p50 ${r.lat.p50.toFixed(3)} p99 ${r.lat.p99.toFixed(3)} ms; s2c ${r.s2c.map(Math.round)} c2s ${r.c2s.map(Math.round)}`);
  }
  await ipcCaller(server)('exit').catch(() => {});
  client.disconnect();
}
await new Promise((r) => setTimeout(r, 1500));

for (const f of readdirSync(dir).filter((x) => x.endsWith('.cpuprofile'))) {
  const p = JSON.parse(readFileSync(`${dir}/${f}`, 'utf8'));
  const self = new Map();
  const byFile = new Map();
  const dt = new Map();
  for (let i = 0; i < p.samples.length; i++) dt.set(p.samples[i], (dt.get(p.samples[i]) ?? 0) + (p.timeDeltas[i + 1] ?? 0));
  let total = 0;
  for (const n of p.nodes) {
    const t = (dt.get(n.id) ?? 0) / 1000;
    if (!t) continue;
    const cf = n.callFrame;
    const file = cf.url ? cf.url.replace(/^file:\/\//, '').replace(root, '') : '(native)';
    const name = `${cf.functionName || '(anonymous)'} ${file.split('/').slice(-2).join('/')}:${cf.lineNumber + 1}`;
    if (cf.functionName === '(idle)' || cf.functionName === '(program)') continue;
    total += t;
    self.set(name, (self.get(name) ?? 0) + t);
    const key = file.includes('node_modules/') ? file.replace(/.*node_modules\/((@[^/]+\/)?[^/]+).*/, 'node_modules/$1') : file.startsWith('node:') ? 'node: internals' : file;
    byFile.set(key, (byFile.get(key) ?? 0) + t);
  }
  const top = (m, n) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, v]) => `  ${v.toFixed(1).padStart(8)} ms ${((100 * v) / total).toFixed(1).padStart(5)}%  ${k}`);
  console.log(`\n== ${f}: ${total.toFixed(0)} ms busy (idle excluded)\n-- by file`);
  console.log(top(byFile, 12).join('\n'));
  console.log('-- by function (self time)');
  console.log(top(self, Number(process.env.TOP ?? 25)).join('\n'));
}

for (const f of readdirSync(dir).filter((x) => x.endsWith('.heapprofile'))) {
  const p = JSON.parse(readFileSync(`${dir}/${f}`, 'utf8'));
  const self = new Map();
  let total = 0;
  const walk = (n) => {
    const cf = n.callFrame;
    const file = cf.url ? cf.url.replace(/^file:\/\//, '').replace(root, '') : '(native)';
    const name = `${cf.functionName || '(anonymous)'} ${file.split('/').slice(-2).join('/')}:${cf.lineNumber + 1}`;
    total += n.selfSize;
    self.set(name, (self.get(name) ?? 0) + n.selfSize);
    for (const c of n.children) walk(c);
  };
  walk(p.head);
  console.log(`\n== ${f}: ${(total / 2 ** 20).toFixed(0)} MiB allocated (sampled)`);
  for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(process.env.TOP ?? 25))) {
    console.log(`  ${(v / 2 ** 20).toFixed(1).padStart(8)} MiB ${((100 * v) / total).toFixed(1).padStart(5)}%  ${k}`);
  }
}
