// Why a variant's first cold-start trials under a scenario were slow in the ttc bench: wall time,
// client CPU and server (+lab) CPU per trial, by position, wirefall and socket.io (defaults), each
// repetition with fresh processes. CPU time blurs much less than wall time on a loaded machine.
// Not part of `npm run bench`; docs/benchmarks-history.md (branch `ttc`) says what it showed.
//   node bench/ttc-warmup.mjs [scenario] [reps] [trials] [clean warm-ups] [pre]
// `pre`: the client first runs that many trials of the scenario against another server (is the
// slowness the client's, or the server's?).
import { median } from './lib/common.mjs';
import { closedPort, killAll, startClient, startServer } from './lib/procs.mjs';
const SC = {
  hang: { kind: 'refuse-upgrade', how: 'hang' },
  drop: { kind: 'drop-frames' },
  '403': { kind: 'refuse-upgrade', how: '403' },
  clean: { kind: 'pass' },
};
const [sc = 'hang', reps = '4', N = '8', W = '2', PRE = '0'] = process.argv.slice(2);
const securePort = await closedPort();
const res = { wirefall: [], socketio: [] };
try {
  for (let r = 0; r < Number(reps); r++) {
    for (const lib of ['wirefall', 'socketio']) {
      const server = await startServer(lib, { lab: true });
      const client = await startClient();
      const url = lib === 'wirefall' ? `http://127.0.0.1:${server.labPort}/wirefall` : `http://127.0.0.1:${server.labPort}`;
      const trial = async () => {
        const [c0, s0] = [await client.call('cpu'), await server.call('cpu')];
        const t = await client.call('ttc', { variant: lib === 'wirefall' ? 'wirefall' : 'sio-default', url, cap: 10_000, securePort });
        const [c1, s1] = [await client.call('cpu'), await server.call('cpu')];
        return { ms: t.ms, c: (c1 - c0) / 1000, s: (s1 - s0) / 1000 };
      };
      try {
        await server.call('scenario', { scenario: { kind: 'pass' } });
        const out = [];
        for (let i = 0; i < Number(W); i++) out.push(await trial());
        if (Number(PRE)) {
          // the client warmed on the scenario against another server first
          const other = await startServer(lib, { lab: true });
          await other.call('scenario', { scenario: SC[sc] });
          const ourl = lib === 'wirefall' ? `http://127.0.0.1:${other.labPort}/wirefall` : `http://127.0.0.1:${other.labPort}`;
          for (let i = 0; i < Number(PRE); i++) await client.call('ttc', { variant: lib === 'wirefall' ? 'wirefall' : 'sio-default', url: ourl, cap: 10_000, securePort });
          await other.stop();
        }
        await server.call('scenario', { scenario: SC[sc] });
        for (let i = 0; i < Number(N); i++) out.push(await trial());
        res[lib].push(out);
      } finally {
        await Promise.all([server.stop(), client.stop()]);
      }
    }
  }
  const n = Number(W) + Number(N);
  for (const lib of Object.keys(res))
    for (const k of ['ms', 'c', 's']) console.log(sc, lib.padEnd(8), { ms: 'wall ms  ', c: 'client ms', s: 'server ms' }[k], Array.from({ length: n }, (_, i) => median(res[lib].map((o) => o[i][k])).toFixed(1).padStart(6)).join(' '));
} finally {
  await killAll();
}
