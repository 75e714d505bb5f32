// The clients of `npm run bench:chaos` (bench/chaos.mjs), in a process of their own: real wirefall
// clients (dist/index.mjs), each behind three lab proxies of its own (dist/lab.mjs), one per rung
// (`ws`, `sse`, `longpoll`), whose scenarios the orchestrator sets and flips during the run. Each
// client sends numbered `up` messages ({c, i}: steadily, or in bursts with silences between) and
// records what comes back: `echoed` {i}, the nodes' `push` {r, k} and broadcast `tick` {p, k}.
// IPC: `add({ upstream, specs })`, `scenario({ idx, scenarios, cut })`, `go()`, `stop()`,
// `status()`, `report()`, `closeAll()`.
import { performance } from 'node:perf_hooks';
import WS from 'ws';
import { startLab } from '../dist/lab.mjs';
import { serveIpc, toParent } from './lib/common.mjs';

const dist = new URL('../dist', import.meta.url).href;
const { connect } = await import(`${dist}/index.mjs`);
const STEADY_MS = 150;
const BURST = 10;
const BURST_MS = 7000;
const RUNGS = ['ws', 'sse', 'longpoll'];
/** Per client, the last LOG_MAX events (state, attempts, errors), printed for a failing client. */
const LOG_MAX = 300;

const clients = [];
/** Wall-clock time, as the nodes' log lines have it. */
const stamp = () => new Date().toISOString().slice(11, 23);

/** A localStorage of its own per client: no client shares another's rung memory. */
function mapStorage() {
  const map = new Map();
  return { getItem: (k) => map.get(k) ?? null, setItem: (k, v) => void map.set(k, v), removeItem: (k) => void map.delete(k) };
}

function note(st, line) {
  st.log.push(`${stamp()} ${line}`);
  if (st.log.length > LOG_MAX) st.log.splice(0, st.log.length - LOG_MAX);
}

function send(st) {
  const i = st.sent++;
  st.c.send('up', { c: st.idx, i, b: st.bursty ? 1 : 0 }).then(
    () => st.resolved++,
    (err) => {
      st.rejected++;
      const code = err?.code ?? String(err);
      st.rejectedBy[code] = (st.rejectedBy[code] ?? 0) + 1;
      note(st, `send ${i} rejected ${code}`);
    },
  );
}

serveIpc({
  /** Starts a client per spec ({ idx, bursty, scenarios: { ws, sse, longpoll } }), with its labs in front of `upstream` (the balancer's port). */
  async add({ upstream, specs }) {
    for (const spec of specs) {
      const labs = {};
      for (const r of RUNGS) labs[r] = await startLab({ upstream: { host: '127.0.0.1', port: upstream }, scenario: spec.scenarios[r] });
      const c = connect('http://unused.invalid/', {
        WebSocket: WS,
        rungs: [
          { name: 'ws', url: `${labs.ws.wsUrl}/wirefall` },
          { name: 'sse', url: `${labs.sse.url}/wirefall` },
          { name: 'longpoll', url: `${labs.longpoll.url}/wirefall` },
        ],
        platform: { storage: mapStorage() },
        // Back to a higher rung within seconds once its lab lets it (a climb), and no minute-long
        // backoff after a node's death: the run is about what happens in between.
        upgradeProbe: { first: 2000, max: 8000 },
        reconnect: { base: 250, max: 4000 },
      });
      const st = { idx: spec.idx, bursty: spec.bursty, profile: spec.profile, c, labs, timer: undefined, sent: 0, resolved: 0, rejected: 0, rejectedBy: {}, echoes: [], pushes: [], ticks: {}, sessionlost: 0, lostMessages: 0, errors: {}, samples: {}, rungs: [], opens: 0, log: [] };
      c.subscribe('echoed', (d) => st.echoes.push(d.i));
      c.subscribe('push', (d) => st.pushes.push([d.r, d.k]));
      c.subscribe('tick', (d) => (st.ticks[d.p] ??= []).push(d.k));
      c.on('sessionlost', (u) => {
        st.sessionlost++;
        st.lostMessages += u.length;
        note(st, `sessionlost (${u.length} undelivered)`);
      });
      c.on('error', (e) => {
        st.errors[e.code] = (st.errors[e.code] ?? 0) + 1;
        if ((st.samples[e.code] ??= []).length < 3) st.samples[e.code].push(`${stamp()} ${c.rung ?? '-'}: ${String(e.message).slice(0, 200)}`);
        note(st, `error ${e.code} ${String(e.message).slice(0, 120)}`);
      });
      c.on('state', (s, r) => {
        note(st, `state ${s} ${r ?? ''}`);
        if (s === 'open') {
          st.opens++;
          if (st.rungs.at(-1) !== r) st.rungs.push(r);
        }
      });
      c.on('attempt', (a) => note(st, `attempt ${a.rung} ${a.outcome}${a.reason ? ` ${a.reason}` : ''}`));
      clients.push(st);
    }
    return clients.length;
  },
  /** New scenarios for one client's labs; `cut`: its live connections are cut too. */
  scenario({ idx, scenarios, cut, profile }) {
    const st = clients.find((x) => x.idx === idx);
    st.profile = profile;
    note(st, `lab → ${profile}${cut ? ' (cut)' : ''}`);
    for (const r of RUNGS) st.labs[r].setScenario(scenarios[r], { cutExisting: cut });
    return true;
  },
  /** Every client starts sending: steady ones every STEADY_MS, bursty ones BURST at once every BURST_MS. */
  go() {
    for (const st of clients) {
      if (!st.bursty) st.timer = setInterval(() => send(st), STEADY_MS);
      else {
        const burst = () => {
          for (let j = 0; j < BURST; j++) send(st);
        };
        // Bursts spread over the period, so the clients are not silent all at once.
        st.timer = setTimeout(function again() {
          burst();
          st.timer = setTimeout(again, BURST_MS);
        }, (st.idx * 797) % BURST_MS);
      }
    }
    return true;
  },
  stop() {
    for (const st of clients) clearInterval(st.timer), clearTimeout(st.timer);
    return true;
  },
  /** Totals, for the progress line and for the end of the run (everything settled and echoed?). */
  status() {
    const open = { ws: 0, sse: 0, longpoll: 0 };
    let down = 0;
    let sent = 0;
    let settled = 0;
    let echoed = 0;
    let waiting = 0;
    for (const st of clients) {
      if (st.c.state === 'open') open[st.c.rung]++;
      else down++;
      sent += st.sent;
      settled += st.resolved + st.rejected;
      const n = new Set(st.echoes).size;
      echoed += n;
      if (st.resolved + st.rejected < st.sent || n < st.sent) waiting++;
    }
    return { open, down, sent, settled, echoed, waiting, pushes: clients.reduce((n, st) => n + st.pushes.length, 0), cuts: clients.reduce((n, st) => n + RUNGS.reduce((m, r) => m + st.labs[r].stats.cuts, 0), 0) };
  },
  /** Everything each client saw, for chaos.mjs to check against the nodes' reports. */
  report() {
    return clients.map((st) => ({
      idx: st.idx,
      bursty: st.bursty,
      profile: st.profile,
      state: st.c.state,
      rung: st.c.rung,
      sent: st.sent,
      resolved: st.resolved,
      rejected: st.rejected,
      rejectedBy: st.rejectedBy,
      echoes: st.echoes,
      pushes: st.pushes,
      ticks: st.ticks,
      sessionlost: st.sessionlost,
      lostMessages: st.lostMessages,
      errors: st.errors,
      samples: st.samples,
      rungs: st.rungs,
      opens: st.opens,
      cuts: RUNGS.reduce((m, r) => m + st.labs[r].stats.cuts, 0),
      log: st.log,
    }));
  },
  async closeAll() {
    for (const st of clients.splice(0)) {
      clearInterval(st.timer);
      clearTimeout(st.timer);
      st.c.close();
      await Promise.all(RUNGS.map((r) => st.labs[r].close()));
    }
    return true;
  },
});
toParent({ ready: true, at: performance.timeOrigin });
