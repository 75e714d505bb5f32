// Turns the bench results into the markdown printed by `npm run bench` and kept in docs/benchmarks.md.

const KB = 1024;

const num = (x, d = 0) => (Number.isFinite(x) ? x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }) : '–');
const ms3 = (x) => (Number.isFinite(x) ? x.toFixed(3) : '–');
const msT = (x) => (x === Infinity ? 'never' : Number.isFinite(x) ? (x >= 1000 ? `${(x / 1000).toFixed(2)} s` : `${Math.round(x)} ms`) : '–');
const kps = (x) => (Number.isFinite(x) ? `${num(x / 1000, 0)}k` : '–');
const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}×` : '–');
const mib = (x) => (Number.isFinite(x) ? (x / 2 ** 20).toFixed(1) : '–');
const sp = (s, f) => (s && s.n ? `${f(s.median)} (${f(s.min)}–${f(s.max)})` : 'failed');

function check(ok, text) {
  return `| ${ok === undefined ? '?' : ok ? '**met**' : '**missed**'} | ${text} |`;
}

export function render(res, { scenarios, variants }) {
  const { env, settings } = res;
  const L = [];
  L.push(`## Results`);
  L.push('');
  L.push(
    `Machine: ${env.nproc} cores (\`nproc\`), ${env.cpu} (/proc/cpuinfo), ${env.memGiB} GiB, ${env.kernel}, Node ${env.node}. ` +
      `Load average (1/5/15 min) ${env.loadStart} at start, ${env.loadEnd} at end; 1-min peak ${env.loadMax} during the run (the bench's own processes count in it). Run ${env.date}, ${env.seconds} s.`,
  );
  L.push(
    `Versions: wirefall ${env.versions.wirefall} (dist/), ws ${env.versions.ws}, socket.io ${env.versions['socket.io']}, socket.io-client ${env.versions['socket.io-client']}, esbuild ${env.versions.esbuild}.`,
  );
  L.push(
    `Command: \`npm run bench\` (= \`npm run build && node bench/run.mjs\`). Numbers are medians with (min–max) across runs. Layout: server and client in separate processes, ${env.pinned ? 'pinned to one core each with `taskset`' : 'not pinned'}.`,
  );
  L.push('');

  const s = res.suite;
  const targets = [];
  if (s) {
    const raw = s['raw-ws'];
    const wf = s['wf-ws'];
    const sio = s['sio-ws'];
    L.push(`### Round trip, ~${settings.payloadBytes} B JSON object (ms)`);
    L.push('');
    L.push(
      `Sequential echo: ${settings.lat.samplesWs} round trips on WebSocket rungs after ${settings.lat.warmupWs} untimed (${settings.lat.samplesHttp} after ${settings.lat.warmupHttp} on HTTP rungs); p50/p99 per run, then median (min–max) of ${settings.runs} runs. ` +
        (env.pinned
          ? 'Server and client pinned to a core each (`taskset`); the "one shared core" rows pin both to one core, which removes the cross-core wake-ups and leaves the CPU each library spends per round trip; the "one process" rows run the server in a worker thread of the client\'s process, as an app\'s test harness does, pinned to one core.'
          : 'Processes not pinned (`taskset` unavailable): the kernel may put both on one core.'),
    );
    L.push('');
    L.push('| transport | p50 | p99 | p50 vs raw `ws` | p99 vs raw `ws` | p50 vs socket.io | p99 vs socket.io |');
    L.push('| --- | --- | --- | --- | --- | --- | --- |');
    for (const id of ['raw-ws', 'wf-ws', 'sio-ws', 'wf-sse', 'wf-lp', 'sio-poll']) {
      const r = s[id];
      if (!r) continue;
      const peer = r.kind === 'ws' ? sio : s['sio-poll'];
      L.push(
        `| ${r.label} | ${sp(r.p50, ms3)} | ${sp(r.p99, ms3)} | ${ratio(r.p50.median, raw.p50.median)} | ${ratio(r.p99.median, raw.p99.median)} | ${ratio(r.p50.median, peer.p50.median)} | ${ratio(r.p99.median, peer.p99.median)} |`,
      );
    }
    for (const [layout, label] of [['shared', 'one shared core'], ['worker', 'one process, server in a worker thread']]) {
      if (!raw[layout]) continue;
      for (const id of ['raw-ws', 'wf-ws', 'sio-ws']) {
        const r = s[id][layout];
        if (!r) continue;
        const rr = raw[layout];
        const pr = sio[layout];
        L.push(
          `| ${s[id].label}, ${label} | ${sp(r.p50, ms3)} | ${sp(r.p99, ms3)} | ${ratio(r.p50.median, rr.p50.median)} | ${ratio(r.p99.median, rr.p99.median)} | ${ratio(r.p50.median, pr?.p50.median)} | ${ratio(r.p99.median, pr?.p99.median)} |`,
        );
      }
    }
    L.push('');
    L.push(`### Throughput, ~${settings.payloadBytes} B messages (messages per second)`);
    L.push('');
    L.push(
      `Burst of ${num(settings.n)} messages sent as fast as the API takes them, timed until the last arrives (server→client: the client times from its request to the last message; client→server: from the first send to the server's "counted ${num(settings.n)}" reply). One untimed burst each way, then ${settings.tpReps} timed ones; a run's number is their median; median (min–max) of ${settings.runs} runs. "vs socket.io" compares with socket.io's transport of the same kind (\`websocket\` for WebSocket rungs, \`polling\` for HTTP rungs).`,
    );
    L.push('');
    L.push('| transport | server→client | vs raw `ws` | vs socket.io | client→server | vs raw `ws` | vs socket.io |');
    L.push('| --- | --- | --- | --- | --- | --- | --- |');
    for (const id of ['raw-ws', 'wf-ws', 'sio-ws', 'wf-sse', 'wf-lp', 'sio-poll']) {
      const r = s[id];
      if (!r) continue;
      const peer = r.kind === 'ws' ? sio : s['sio-poll'];
      L.push(
        `| ${r.label} | ${sp(r.s2c, kps)} | ${ratio(r.s2c.median, raw.s2c.median)} | ${ratio(r.s2c.median, peer.s2c.median)} | ${sp(r.c2s, kps)} | ${ratio(r.c2s.median, raw.c2s.median)} | ${ratio(r.c2s.median, peer.c2s.median)} |`,
      );
    }
    const errs = Object.values(s).filter((r) => r.errors.length);
    for (const r of errs) L.push(`\n${r.label}: ${r.errors.length} failed run(s): ${r.errors.join('; ')}`);
    L.push('');
    const p50r = wf.p50.median / raw.p50.median;
    const p99r = wf.p99.median / raw.p99.median;
    const sh = wf.shared && raw.shared ? `; one shared core: ${ratio(wf.shared.p50.median, raw.shared.p50.median)}` : '';
    const sh99 = wf.shared && raw.shared ? `; one shared core: ${ratio(wf.shared.p99.median, raw.shared.p99.median)}` : '';
    if (wf.worker && raw.worker) {
      targets.push(check(wf.worker.p50.median / raw.worker.p50.median <= 1.15, `WebSocket round trip p50 ≤ 1.15× raw \`ws\`, one process (server in a worker thread): ${ratio(wf.worker.p50.median, raw.worker.p50.median)} (${ms3(wf.worker.p50.median)} vs ${ms3(raw.worker.p50.median)} ms)`));
      targets.push(check(wf.worker.p99.median / raw.worker.p99.median <= 2, `WebSocket round trip p99 ≤ 2× raw \`ws\`, one process (server in a worker thread): ${ratio(wf.worker.p99.median, raw.worker.p99.median)} (${ms3(wf.worker.p99.median)} vs ${ms3(raw.worker.p99.median)} ms)`));
    }
    targets.push(check(p50r <= 1.15, `WebSocket round trip p50 ≤ 1.15× raw \`ws\`: ${ratio(wf.p50.median, raw.p50.median)} (${ms3(wf.p50.median)} vs ${ms3(raw.p50.median)} ms)${sh}`));
    targets.push(check(p99r <= 2, `WebSocket round trip p99 ≤ 2× raw \`ws\`: ${ratio(wf.p99.median, raw.p99.median)} (${ms3(wf.p99.median)} vs ${ms3(raw.p99.median)} ms)${sh99}`));
    for (const dir of ['s2c', 'c2s']) {
      const d = dir === 's2c' ? 'server→client' : 'client→server';
      targets.push(check(wf[dir].median >= raw[dir].median, `WebSocket throughput ${d} ≥ 1.0× raw \`ws\`: ${ratio(wf[dir].median, raw[dir].median)}`));
    }
    for (const dir of ['s2c', 'c2s']) {
      const d = dir === 's2c' ? 'server→client' : 'client→server';
      const r = s['wf-sse'];
      targets.push(check(r[dir].median >= 2 * raw[dir].median, `SSE throughput ${d} ≥ 2× raw \`ws\`: ${ratio(r[dir].median, raw[dir].median)}`));
    }
    for (const dir of ['s2c', 'c2s']) {
      const d = dir === 's2c' ? 'server→client' : 'client→server';
      const r = s['wf-lp'];
      const p = s['sio-poll'];
      targets.push(check(r[dir].median >= 2 * p[dir].median, `long-polling throughput ${d} ≥ 2× socket.io polling: ${ratio(r[dir].median, p[dir].median)}`));
    }
  }

  if (res.ttc) {
    const t = res.ttc;
    L.push('### Time to connected: `connect()` → first echo back (through the lab proxy)');
    L.push('');
    L.push(
      `${t.trials} trials per cell after 2 untimed ones on a clean network and ${t.warm ?? 1} under the scenario (the client's JIT on the path the scenario takes; each trial is a fresh client with empty storage, a cold start); median (min–max), and the transport in use at the first echo. "never" = not within ${t.cap / 1000} s. wirefall's ladder starts with \`wss\` on port ${t.securePort} (nothing listens there on loopback: refused at once).`,
    );
    L.push('');
    L.push(`| network | ${variants.map((v) => v.label).join(' | ')} |`);
    L.push(`| --- | ${variants.map(() => '---').join(' | ')} |`);
    for (const sc of scenarios) {
      const cells = variants.map((v) => {
        const r = t.results[`${sc.id}/${v.id}`];
        if (!r || r.error) return `failed${r?.error ? `: ${r.error.slice(0, 60)}` : ''}`;
        const rung = r.rungs.filter((x) => x !== 'none').join('/') || '–';
        const fails = r.failures ? `, ${r.failures}/${r.n} never` : '';
        return `${msT(r.median)} (${msT(r.min)}–${msT(r.max)}) ${rung}${fails}`;
      });
      L.push(`| ${sc.label} | ${cells.join(' | ')} |`);
    }
    L.push('');
    for (const id of ['refused-403', 'refused-reset', 'hang', 'drop-frames']) {
      const r = t.results[`${id}/wirefall`];
      const label = scenarios.find((x) => x.id === id).label;
      targets.push(check(r && !r.error ? r.median <= 1500 : false, `connected ≤ 1.5 s, ${label}: ${r && !r.error ? `${msT(r.median)} (max ${msT(r.max)})` : 'failed'}`));
    }
  }

  if (res.bundle) {
    L.push('### Client bundle size (bytes)');
    L.push('');
    L.push(
      'A realistic entry per library (connect, listen to one message type; sources in bench/bundle.mjs), bundled for the browser with esbuild (`--bundle --minify --format=esm --platform=browser --target=es2022`), then gzip -9. The last column bundles for `es2020` instead, as older bundler defaults do (Vite ≤ 6, Safari 14): `#private` class members are then lowered to helper calls. React itself is not counted in the wirefall/react row; the UMD row is the shipped file, measured as is.',
    );
    L.push('');
    L.push('| library | version | min | min+gzip | vs socket.io-client | min+gzip, es2020 target |');
    L.push('| --- | --- | --- | --- | --- | --- |');
    const sio = res.bundle.find((b) => b.name === 'socket.io-client');
    for (const b of res.bundle) {
      L.push(
        `| ${b.name} | ${b.version ?? ''} | ${num(b.min)} | ${num(b.gzip)}${b.note ? ` (${b.note})` : ''} | ${b.gzip ? ratio(b.gzip, sio?.gzip) : ''} | ${b.gzip2020 === undefined ? '' : num(b.gzip2020)} |`,
      );
    }
    L.push('');
    const core = res.bundle.find((b) => b.name.startsWith('wirefall (core'));
    const umd = res.bundle.find((b) => b.name.startsWith('wirefall UMD'));
    targets.push(
      check(
        core ? core.gzip < 7 * KB : undefined,
        `whole client < 7 KB (7,168 B) min+gzip: ${core ? `${num(core.gzip)} B` : '–'} for the ESM entry (${core ? num(core.gzip2020) : '–'} B at es2020), ${umd ? `${num(umd.gzip)} B` : '–'} for the UMD file`,
      ),
    );
  }

  if (res.memory) {
    L.push('### Server memory per 1,000 idle connections');
    L.push('');
    L.push(
      `Server process (\`--expose-gc\`) measured after 3 full GCs, before and after another process opened ${num(settings.idle)} idle clients and waited 1 s; the difference per 1,000. Median (min–max) of ${settings.memRuns} runs. MiB.`,
    );
    L.push('');
    L.push('| transport | RSS | heap used | RSS vs raw `ws` | RSS vs socket.io | heap vs socket.io |');
    L.push('| --- | --- | --- | --- | --- | --- |');
    const m = res.memory;
    for (const id of Object.keys(m)) {
      const r = m[id];
      const peer = id.endsWith('ws') ? m['sio-ws'] : m['sio-poll'];
      L.push(
        `| ${r.label} | ${sp(r.rss, mib)} | ${sp(r.heap, mib)} | ${ratio(r.rss.median, m['raw-ws']?.rss.median)} | ${ratio(r.rss.median, peer?.rss.median)} | ${ratio(r.heap.median, peer?.heap.median)} |`,
      );
      if (r.errors.length) L.push(`\n${r.label}: ${r.errors.join('; ')}\n`);
    }
    L.push('');
  }

  if (targets.length) {
    L.push('### Targets');
    L.push('');
    L.push('| | target (medians) |');
    L.push('| --- | --- |');
    L.push(...targets);
    L.push('');
  }
  return L.join('\n');
}
