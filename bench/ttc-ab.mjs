// A/B of the cold-start time to first echo (the ttc section of `npm run bench`) between wirefall
// builds and socket.io's default (polling first), interleaved trial by trial on the same machine,
// so that load from elsewhere hits every variant alike. Not part of `npm run bench`.
//   cp -r dist /tmp/before && <change src> && npm run build
//   node bench/ttc-ab.mjs [rounds] [scenario,...] [distDir...]   # default: 15 rounds, all, dist
// Prints per scenario each variant's median, quartiles and its ratio to socket.io (median of the
// per-round ratios). VERBOSE=1 prints every wirefall trial's attempts; WARM=n untimed trials under
// each scenario first (default 3).
import { resolve } from 'node:path';
import { median, quantile } from './lib/common.mjs';
import { closedPort, killAll, startClient, startServer } from './lib/procs.mjs';

const SCENARIOS = {
  '403': { kind: 'refuse-upgrade', how: '403' },
  reset: { kind: 'refuse-upgrade', how: 'reset' },
  rewrite: { kind: 'rewrite-connection' },
  hang: { kind: 'refuse-upgrade', how: 'hang' },
  drop: { kind: 'drop-frames' },
  clean: { kind: 'pass' },
};
const args = process.argv.slice(2);
const rounds = Number(args[0] ?? 15);
const scenarios = (args[1] ?? Object.keys(SCENARIOS).join(',')).split(',');
const dists = args.length > 2 ? args.slice(2) : ['dist'];
const WARM = Number(process.env.WARM ?? 3);

/** One server (behind its lab) and one client process per variant, kept for the whole run. */
async function variant(name, lib, dist) {
  if (dist) process.env.WIREFALL_DIST = resolve(dist);
  const server = await startServer(lib, { lab: true });
  const client = await startClient();
  const url = lib === 'wirefall' ? `http://127.0.0.1:${server.labPort}/wirefall` : `http://127.0.0.1:${server.labPort}`;
  return { name, server, client, url, id: lib === 'wirefall' ? 'wirefall' : 'sio-default' };
}

const securePort = await closedPort();
const vs = [];
try {
  for (const d of dists) vs.push(await variant(d, 'wirefall', d));
  vs.push(await variant('socket.io', 'socketio'));
  const trial = (v) => v.client.call('ttc', { variant: v.id, url: v.url, cap: 10_000, securePort });
  for (const sc of scenarios) {
    const ms = new Map(vs.map((v) => [v, []]));
    const ratios = new Map(vs.map((v) => [v, []]));
    const ends = new Map(vs.map((v) => [v, {}]));
    // Untimed: two trials on a clean network, then WARM under the scenario, as in run.mjs: a
    // client's first trials on a path it has not run yet are slow (its JIT), and socket.io's clean
    // path is its fallback path, wirefall's is not.
    for (const v of vs) {
      await v.server.call('scenario', { scenario: { kind: 'pass' } });
      await trial(v);
      await trial(v);
      await v.server.call('scenario', { scenario: SCENARIOS[sc] });
      for (let i = 0; i < WARM; i++) await trial(v);
    }
    for (let r = 0; r < rounds; r++) {
      const got = new Map();
      // Alternate the order each round: whoever goes first is not always the one on a cold cache.
      for (const v of r % 2 ? [...vs].reverse() : vs) {
        const t = await trial(v);
        got.set(v, t.ms ?? Infinity);
        ends.get(v)[t.rung ?? 'none'] = (ends.get(v)[t.rung ?? 'none'] ?? 0) + 1;
        if (process.env.VERBOSE && v.id === 'wirefall') console.log(sc, v.name, Math.round(t.ms), t.rung, t.attempts?.join(' '));
      }
      const base = got.get(vs.at(-1));
      for (const v of vs) (ms.get(v).push(got.get(v)), ratios.get(v).push(got.get(v) / base));
    }
    for (const v of vs) {
      const s = [...ms.get(v)].sort((a, b) => a - b);
      const q = (p) => quantile(s, p).toFixed(1);
      console.log(`${sc.padEnd(7)} ${v.name.padEnd(24)} median ${median(s).toFixed(1)} ms (q1 ${q(0.25)}, q3 ${q(0.75)}, max ${q(1)})  ratio to socket.io ${median(ratios.get(v)).toFixed(2)}  ended on ${JSON.stringify(ends.get(v))}`);
    }
  }
} finally {
  await Promise.all(vs.flatMap((v) => [v.server.stop(), v.client.stop()]));
  await killAll();
}
