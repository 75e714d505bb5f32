// How long until a client notices that its connection died silently (the lab freezes every
// connection both ways, without a close: a dead NAT entry, a lost Wi-Fi), idle and with a message
// in flight. wirefall with defaults against socket.io 4 with its defaults (pingInterval 25 s,
// pingTimeout 20 s), wirefall on each rung (RUNGS=ws,sse,longpoll by default; on the HTTP rungs
// the client's fetch also hangs every new request, as the dead path would: the lab freezes only
// the connections it already carries). `npm run bench:dead`; prints a markdown table. Runs in
// about 5 minutes.
import { once } from 'node:events';
import { createServer as createHttpServer } from 'node:http';
import { Server as SocketIoServer } from 'socket.io';
import { io } from 'socket.io-client';
import WebSocket from 'ws';
import { startLab } from '../dist/lab.mjs';

// WIREFALL_DIST points at another build (A/B); default: this repo's dist/.
const dist = process.env.WIREFALL_DIST ? new URL(`file://${process.env.WIREFALL_DIST.replace(/\/$/, '')}`).href : new URL('../dist', import.meta.url).href;
const { connect } = await import(`${dist}/index.mjs`);
const { createServer } = await import(`${dist}/server.mjs`);

const TRIALS = Number(process.env.TRIALS ?? 3);
const RUNGS = (process.env.RUNGS ?? 'ws,sse,longpoll').split(',');
const CAP = 60_000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** A fetch that, once `dead`, never answers a new request (until aborted). */
function hangingFetch() {
  const state = { dead: false };
  const f = (input, init) =>
    state.dead
      ? new Promise((_, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal.reason)))
      : fetch(input, init);
  return { fetch: f, state };
}

async function wirefallTrial(inFlight, rung) {
  const server = createServer({ logger: { warn() {} } });
  const port = await server.listen(0);
  server.on('connection', (c) => c.subscribe('echo', (d) => void c.send('echoed', d)));
  const lab = await startLab({ upstream: { host: '127.0.0.1', port } });
  const net = hangingFetch();
  const client = connect(`${lab.url}/wirefall`, { WebSocket, fetch: net.fetch, transports: [rung], rememberRungMs: 0, upgradeProbe: false });
  try {
    await new Promise((r) => client.on('state', (s) => s === 'open' && r()));
    await sleep(1000 + Math.random() * 4000); // anywhere in the heartbeat cycle
    const lost = new Promise((r) => client.on('state', (s) => s === 'reconnecting' && r()));
    lab.freezeAll();
    net.state.dead = true;
    lab.setScenario({ kind: 'refuse-upgrade', how: 'hang' }); // and nothing new gets through
    const t0 = performance.now();
    if (inFlight) client.send('echo', { n: 1 }).catch(() => {});
    await Promise.race([lost, sleep(CAP)]);
    return performance.now() - t0;
  } finally {
    client.close();
    await lab.close();
    await server.close();
  }
}

async function socketIoTrial(inFlight) {
  const http = createHttpServer();
  const sio = new SocketIoServer(http);
  sio.on('connection', (s) => s.on('echo', (d) => s.emit('echoed', d)));
  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  const lab = await startLab({ upstream: { host: '127.0.0.1', port: http.address().port } });
  const client = io(lab.url, { transports: ['websocket'], reconnection: false });
  try {
    await once(client, 'connect');
    await sleep(1000);
    const lost = once(client, 'disconnect');
    lab.freezeAll();
    const t0 = performance.now();
    if (inFlight) client.emit('echo', { n: 1 });
    await Promise.race([lost, sleep(CAP)]);
    return performance.now() - t0;
  } finally {
    client.close();
    sio.close();
    await lab.close();
    http.closeAllConnections?.();
  }
}

const rows = [];
for (const [name, trial, n, rung] of [
  ...RUNGS.map((rung) => [`wirefall (${rung})`, wirefallTrial, TRIALS, rung]),
  ['socket.io', socketIoTrial, 1],
]) {
  for (const inFlight of [false, true]) {
    const times = [];
    for (let i = 0; i < n; i++) times.push(await trial(inFlight, rung));
    const s = (ms) => (ms >= CAP ? `> ${CAP / 1000} s` : `${(ms / 1000).toFixed(1)} s`);
    rows.push(`| ${name} | ${inFlight ? 'a message in flight' : 'idle'} | ${s(median(times))} | ${times.map(s).join(', ')} |`);
    console.error(rows.at(-1));
  }
}
console.log(['| library | when the path dies | detected after (median) | trials |', '| --- | --- | --- | --- |', ...rows].join('\n'));
process.exit(0);
