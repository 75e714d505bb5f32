// CPU cost of the bench's bursts, per message, in each process: an A/B that a loaded machine does
// not blur as much as wall-clock rates (time waiting for a core is not counted). Not part of
// `npm run bench`. Variants as in bench/ab.mjs (`raw`, `socketio`, or a wirefall build directory):
//   node bench/cpu.mjs sse 4 bench/results/ab/before dist
import { resolve } from 'node:path';
import { median } from './lib/common.mjs';
import { killAll, startClient, startServer } from './lib/procs.mjs';

const [rung = 'sse', rounds = '4', ...variants] = process.argv.slice(2);
const N = 20_000;
const REPS = 4;
const res = Object.fromEntries(variants.map((v) => [v, { s2c: { client: [], server: [], rate: [] }, c2s: { client: [], server: [], rate: [] } }]));
try {
  for (let i = 0; i < Number(rounds); i++) {
    for (const v of variants) {
      const lib = v === 'raw' || v === 'socketio' ? v : 'wirefall';
      if (lib === 'wirefall') process.env.WIREFALL_DIST = resolve(v);
      const server = await startServer(lib);
      const client = await startClient();
      const port = server.port;
      const url = lib === 'raw' ? `ws://127.0.0.1:${port}/` : lib === 'wirefall' ? `http://127.0.0.1:${port}/wirefall` : `http://127.0.0.1:${port}`;
      const args = { lib, rung: lib === 'wirefall' ? rung : lib === 'raw' ? 'ws' : rung === 'ws' ? 'websocket' : 'polling', url, warmup: 0, samples: 1 };
      try {
        for (const dir of ['s2c', 'c2s']) {
          // Untimed: module loading, JIT, the connection.
          await client.call('suite', { ...args, n: 2000, reps: 1, dirs: [dir] });
          const [c0, s0] = await Promise.all([client.call('cpu'), server.call('cpu')]);
          const r = await client.call('suite', { ...args, n: N, reps: REPS, dirs: [dir] });
          const [c1, s1] = await Promise.all([client.call('cpu'), server.call('cpu')]);
          // The suite runs one untimed burst before its timed ones.
          const msgs = (REPS + 1) * N;
          res[v][dir].client.push((c1 - c0) / msgs);
          res[v][dir].server.push((s1 - s0) / msgs);
          res[v][dir].rate.push(median(r[dir]));
        }
      } finally {
        await Promise.all([server.stop(), client.stop()]);
      }
    }
  }
  for (const v of variants) {
    for (const dir of ['s2c', 'c2s']) {
      const r = res[v][dir];
      console.log(`${v.padEnd(28)} ${dir}  client ${median(r.client).toFixed(2)} µs/msg  server ${median(r.server).toFixed(2)} µs/msg  (${r.client.map((x) => x.toFixed(2)).join(' ')} | ${r.server.map((x) => x.toFixed(2)).join(' ')})  ${Math.round(median(r.rate))} msg/s`);
    }
  }
} finally {
  await killAll();
}
