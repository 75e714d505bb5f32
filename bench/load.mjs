// A load generator for the scale section (bench/scale.mjs): real wirefall clients (dist/index.mjs)
// in a process of its own, so that the clients' CPU is not the servers' nor the orchestrator's.
// IPC: `open({ url, rungs, n, batch })` opens n clients (rungs taken in turn), `status()`,
// `probe({ url, rung, ms, every })` times echo round trips on one extra client, `closeAll()`.
// `cpu()`: this process's CPU time so far, µs.
import { performance } from 'node:perf_hooks';
import WS from 'ws';
import { payload, quantile, serveIpc, sleep, toParent } from './lib/common.mjs';

const dist = process.env.WIREFALL_DIST ? new URL(`file://${process.env.WIREFALL_DIST.replace(/\/$/, '')}`).href : new URL('../dist', import.meta.url).href;
const { connect } = await import(`${dist}/index.mjs`);
const clients = [];
let turn = 0;
/** Idle clients that heard `sessionlost` (their session was not carried over). */
let lost = 0;
const lostBy = {};
/** Streaming clients (`stream`): each sends numbered echoes and checks what comes back. */
const streams = [];

/** Resolves when `c` is open, rejects when it closes or after `ms`. */
function opened(c, ms) {
  return new Promise((resolve, reject) => {
    if (c.state === 'open') return resolve();
    const t = setTimeout(() => (off(), reject(new Error('open timeout'))), ms);
    const off = c.on('state', (s) => {
      if (s === 'open') (clearTimeout(t), off(), resolve());
      else if (s === 'closed') (clearTimeout(t), off(), reject(new Error('closed')));
    });
  });
}

// Idle clients: no memory of rungs (each uses the rung it is given), no climbing back up.
const options = (rung) => ({ WebSocket: WS, transports: [rung], rememberRungMs: 0, upgradeProbe: false });

serveIpc({
  /** Opens `n` clients, `batch` at a time, each batch waited for (30 s at most per client). */
  async open({ url, rungs, n, batch = 100 }) {
    const t0 = performance.now();
    let ok = 0;
    let failed = 0;
    for (let i = 0; i < n; i += batch) {
      const waits = [];
      for (let j = i; j < Math.min(n, i + batch); j++) {
        const rung = rungs[turn++ % rungs.length];
        const c = connect(url, options(rung));
        c.on('sessionlost', () => (lost++, (lostBy[rung] = (lostBy[rung] ?? 0) + 1)));
        clients.push({ c, rung });
        waits.push(opened(c, 30_000).then(() => ok++, () => failed++));
      }
      const before = failed;
      await Promise.all(waits);
      // The fleet is past its limit: opening more only prolongs the step (each failure waits 30 s).
      if (failed - before > waits.length / 10) break;
    }
    return { ok, failed, ms: performance.now() - t0 };
  },
  /** Clients open now, by rung, and how many are not open (reconnecting, closed). */
  status() {
    const open = { ws: 0, sse: 0, longpoll: 0 };
    let down = 0;
    for (const { c, rung } of clients) c.state === 'open' ? open[rung]++ : down++;
    return { open, down, total: clients.length, lost, lostBy, rss: process.memoryUsage().rss };
  },
  /**
   * Starts `n` streaming clients (rungs in turn): each sends echo i = 0, 1, 2, … every `every` ms
   * (not waiting for answers) until `streamsStop`, and checks the echoes: each once, in order.
   */
  async streamsStart({ url, rungs, n, every = 100, offset = 0 }) {
    for (let j = 0; j < n; j++) {
      const rung = rungs[(j + offset) % rungs.length];
      const c = connect(url, options(rung));
      const st = { c, rung, sent: 0, resolved: 0, rejected: 0, got: [], doubled: 0, reordered: 0, lost: 0, timer: undefined };
      c.on('sessionlost', () => st.lost++);
      c.subscribe('echoed', (d) => {
        const last = st.got.at(-1) ?? -1;
        if (st.got.includes(d.i)) st.doubled++;
        else if (d.i < last) st.reordered++;
        st.got.push(d.i);
      });
      await opened(c, 30_000);
      st.timer = setInterval(() => {
        const i = st.sent++;
        c.send('echo', payload('echo', i)).then(() => st.resolved++, () => st.rejected++);
      }, every);
      streams.push(st);
    }
    return streams.length;
  },
  /** Stops sending, waits up to `ms` for the echoes of everything sent, and reports each stream. */
  async streamsStop({ ms = 30_000 } = {}) {
    for (const st of streams) clearInterval(st.timer);
    const end = performance.now() + ms;
    while (performance.now() < end && streams.some((st) => st.got.length < st.sent || st.resolved + st.rejected < st.sent)) await sleep(100);
    const out = streams.map((st) => {
      const seen = new Set(st.got);
      let missing = 0;
      for (let i = 0; i < st.sent; i++) if (!seen.has(i)) missing++;
      return { rung: st.rung, sent: st.sent, echoed: seen.size, missing, doubled: st.doubled, reordered: st.reordered, resolved: st.resolved, rejected: st.rejected, sessionlost: st.lost };
    });
    for (const st of streams.splice(0)) st.c.close();
    return out;
  },
  /** Sequential echo round trips on one extra client for `ms`, one every `every` ms; 5 s without an answer is a timeout. */
  async probe({ url, rung, ms, every = 100 }) {
    const c = connect(url, options(rung));
    try {
      await opened(c, 30_000);
      let answer;
      c.subscribe('echoed', () => answer?.());
      const rtts = [];
      let timeouts = 0;
      const end = performance.now() + ms;
      for (let i = 0; performance.now() < end; i++) {
        const t0 = performance.now();
        const got = new Promise((r) => (answer = r));
        void c.send('echo', payload('echo', i)).catch(() => {});
        const ok = await Promise.race([got.then(() => true), sleep(5000).then(() => false)]);
        if (ok) rtts.push(performance.now() - t0);
        else timeouts++;
        await sleep(every);
      }
      rtts.sort((a, b) => a - b);
      return { n: rtts.length, p50: quantile(rtts, 0.5), p99: quantile(rtts, 0.99), max: rtts.at(-1) ?? Infinity, timeouts };
    } catch (err) {
      return { n: 0, p50: Infinity, p99: Infinity, max: Infinity, timeouts: 1, error: String(err.message ?? err) };
    } finally {
      c.close();
    }
  },
  /** CPU time this process used so far, µs (user + system). */
  cpu: () => {
    const u = process.cpuUsage();
    return u.user + u.system;
  },
  async closeAll() {
    for (const { c } of clients.splice(0)) c.close();
    await sleep(500);
    return true;
  },
});
toParent({ ready: true });
