// A/B of wirefall builds (or against raw `ws` / socket.io) on one rung, alternating, same layout as
// `npm run bench`. Not part of it. Use it to check a library change:
//   cp -r dist /tmp/before && <change src> && npm run build
//   node bench/ab.mjs ws 6 raw /tmp/before dist            # round trip + throughput
//   node bench/ab.mjs ws 6 raw /tmp/before dist --shared   # round trip with both on one core
//   node bench/ab.mjs ws 6 raw /tmp/before dist --worker   # round trip in one process (server in a worker thread)
// A variant is `raw`, `socketio` or a directory holding a wirefall build (index.mjs, server.mjs).
import { resolve } from 'node:path';
import { median } from './lib/common.mjs';
import { killAll, startClient, startServer } from './lib/procs.mjs';

const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const shared = process.argv.includes('--shared');
// The one-process layout of `npm run bench`: the server in a worker thread of the client's process, pinned to one core.
const worker = process.argv.includes('--worker');
const [rung = 'ws', rounds = '6', ...variants] = args;
if (variants.length === 0) {
  console.error('usage: node bench/ab.mjs <ws|sse|longpoll> <rounds> <raw|socketio|distDir>... [--shared|--worker]');
  process.exit(2);
}
const ws = rung === 'ws';
const res = Object.fromEntries(variants.map((v) => [v, { p50: [], p99: [], s2c: [], c2s: [] }]));
try {
  for (let i = 0; i < Number(rounds); i++) {
    for (const v of variants) {
      const lib = v === 'raw' || v === 'socketio' ? v : 'wirefall';
      if (lib === 'wirefall') process.env.WIREFALL_DIST = resolve(v);
      const libRung = lib === 'wirefall' ? rung : lib === 'raw' ? 'ws' : ws ? 'websocket' : 'polling';
      const urlFor = (port) => (lib === 'raw' ? `ws://127.0.0.1:${port}/` : lib === 'wirefall' ? `http://127.0.0.1:${port}/wirefall` : `http://127.0.0.1:${port}`);
      if (worker) {
        const client = await startClient({ cpu: 1 });
        try {
          const r = await client.call('workerSuite', { lib, rung: libRung, urlTemplate: urlFor('PORT'), warmup: 5000, samples: 20_000 });
          res[v].p50.push(r.lat.p50);
          res[v].p99.push(r.lat.p99);
        } finally {
          await client.stop();
        }
        continue;
      }
      const server = await startServer(lib, { cpu: shared ? 1 : 0 });
      const client = await startClient();
      try {
        const r = await client.call('suite', {
          lib,
          rung: libRung,
          url: urlFor(server.port),
          warmup: ws ? 5000 : 500,
          samples: ws ? 20_000 : 300, // as bench/run.mjs
          // One shared core measures CPU per round trip; throughput there would mean nothing.
          n: shared ? 0 : 20_000,
          reps: shared ? 0 : 3,
          dirs: shared ? [] : ['s2c', 'c2s'],
        });
        res[v].p50.push(r.lat.p50);
        res[v].p99.push(r.lat.p99);
        if (!shared) {
          res[v].s2c.push(median(r.s2c));
          res[v].c2s.push(median(r.c2s));
        }
      } finally {
        await Promise.all([server.stop(), client.stop()]);
      }
    }
  }
  for (const v of variants) {
    const r = res[v];
    const tp = shared || worker ? '' : `  s2c ${Math.round(median(r.s2c))}  c2s ${Math.round(median(r.c2s))} msg/s`;
    const us = (xs, d) => xs.map((x) => (x * 1000).toFixed(d)).join('/');
    console.log(`${v.padEnd(24)} p50 ${(median(r.p50) * 1000).toFixed(1)} µs  p99 ${(median(r.p99) * 1000).toFixed(0)} µs${tp}`);
    // Every round's numbers, in run order: the spread, and whether a slow stretch hit one variant.
    const k = (xs) => xs.map((x) => Math.round(x / 1000)).join('/');
    console.log(`${''.padEnd(24)} p50s ${us(r.p50, 1)}  p99s ${us(r.p99, 0)}${tp && `  s2cs ${k(r.s2c)}k  c2ss ${k(r.c2s)}k`}`);
  }
} finally {
  await killAll();
}
