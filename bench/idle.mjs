// What an IDLE client costs, per rung: HTTP requests counted at the server (deterministic: the
// heartbeat paces them), and CPU time of the server and of the clients' process, per client and
// minute. N clients of one rung open, settle, then sit idle for a window. Not part of `npm run
// bench`. Variants are wirefall build directories (A/B), run interleaved, `--rounds` times:
//   node bench/idle.mjs [--n=200] [--secs=60] [--hb=5000] [--rounds=1] [--rungs=ws,sse,longpoll] dist /tmp/base
import { resolve } from 'node:path';
import { median, sleep } from './lib/common.mjs';
import { killAll, startHelper, startServer } from './lib/procs.mjs';

const flags = Object.fromEntries(process.argv.slice(2).filter((a) => a.startsWith('--')).map((a) => a.slice(2).split('=')));
const variants = process.argv.slice(2).filter((a) => !a.startsWith('--'));
if (!variants.length) variants.push('dist');
const N = Number(flags.n ?? 200);
const SECS = Number(flags.secs ?? 60);
const HB = Number(flags.hb ?? 5000);
const ROUNDS = Number(flags.rounds ?? 1);
const RUNGS = (flags.rungs ?? 'ws,sse,longpoll').split(',');
/** After the opens: the claims, reports and first acks are not idle traffic. */
const SETTLE_MS = 2 * HB;

const res = {};
try {
  for (let round = 0; round < ROUNDS; round++) {
    for (const rung of RUNGS) {
      for (const v of variants) {
        process.env.WIREFALL_DIST = resolve(v);
        const server = await startServer('wirefall', { cpu: null, heartbeatMs: HB });
        const load = await startHelper('load.mjs');
        try {
          const opened = await load.call('open', { url: `http://127.0.0.1:${server.port}/wirefall`, rungs: [rung], n: N });
          if (opened.failed) throw new Error(`${opened.failed} of ${N} ${rung} clients failed to open`);
          await sleep(SETTLE_MS);
          const [r0, s0, c0] = await Promise.all([server.call('requests'), server.call('cpu'), load.call('cpu')]);
          await sleep(SECS * 1000);
          const [r1, s1, c1, st] = await Promise.all([server.call('requests'), server.call('cpu'), load.call('cpu'), load.call('status')]);
          const perMin = (x) => x / N / (SECS / 60);
          const row = (res[`${rung} ${v}`] ??= { req: [], poll: [], up: [], open: [], server: [], client: [], down: [] });
          row.req.push(perMin(r1.open + r1.poll + r1.up + r1.get - (r0.open + r0.poll + r0.up + r0.get)));
          row.poll.push(perMin(r1.poll - r0.poll));
          row.up.push(perMin(r1.up - r0.up));
          row.open.push(perMin(r1.open - r0.open));
          row.server.push(perMin(s1 - s0) / 1000);
          row.client.push(perMin(c1 - c0) / 1000);
          row.down.push(st.down);
          console.error(`${rung} ${v}: ${row.req.at(-1).toFixed(2)} req/client/min (poll ${row.poll.at(-1).toFixed(2)}, up ${row.up.at(-1).toFixed(2)}), cpu ms/client/min server ${row.server.at(-1).toFixed(2)} client ${row.client.at(-1).toFixed(2)}, down ${st.down}`);
        } finally {
          await load.call('closeAll').catch(() => {});
          await Promise.all([server.stop(), load.stop()]);
        }
      }
    }
  }
} finally {
  await killAll();
}

const f = (xs) => `${median(xs).toFixed(2)}${xs.length > 1 ? ` (${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)})` : ''}`;
console.log(`${N} idle clients per rung, heartbeat ${HB} ms, ${SECS} s window, ${ROUNDS} round(s); medians (min–max)`);
console.log('| rung | build | requests / client / min | polls | uplink POSTs | server CPU ms / client / min | client CPU ms / client / min | not open at the end |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
for (const [k, r] of Object.entries(res)) {
  const [rung, v] = k.split(' ');
  console.log(`| ${rung} | ${v} | ${f(r.req)} | ${f(r.poll)} | ${f(r.up)} | ${f(r.server)} | ${f(r.client)} | ${Math.max(...r.down)} |`);
}
