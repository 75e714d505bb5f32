// How long until a client notices that its connection died silently (the lab freezes every
// connection both ways, without a close: a dead NAT entry, a lost Wi-Fi), idle and with a message
// in flight. wirefall with defaults against socket.io 4 with its defaults (pingInterval 25 s,
// pingTimeout 20 s). `npm run bench:dead`; prints a markdown table. Runs in about 2 minutes.
import { once } from 'node:events';
import { createServer as createHttpServer } from 'node:http';
import { Server as SocketIoServer } from 'socket.io';
import { io } from 'socket.io-client';
import WebSocket from 'ws';
import { connect } from '../dist/index.mjs';
import { createServer } from '../dist/server.mjs';
import { startLab } from '../dist/lab.mjs';

const TRIALS = Number(process.env.TRIALS ?? 3);
const CAP = 60_000;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function wirefallTrial(inFlight) {
  const server = createServer({ logger: { warn() {} } });
  const port = await server.listen(0);
  server.on('connection', (c) => c.subscribe('echo', (d) => void c.send('echoed', d)));
  const lab = await startLab({ upstream: { host: '127.0.0.1', port } });
  const client = connect(`${lab.url}/wirefall`, { WebSocket, transports: ['ws'] });
  try {
    await new Promise((r) => client.on('state', (s) => s === 'open' && r()));
    await sleep(1000 + Math.random() * 4000); // anywhere in the heartbeat cycle
    const lost = new Promise((r) => client.on('state', (s) => s === 'reconnecting' && r()));
    lab.freezeAll();
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
for (const [name, trial, n] of [
  ['wirefall', wirefallTrial, TRIALS],
  ['socket.io', socketIoTrial, 1],
]) {
  for (const inFlight of [false, true]) {
    const times = [];
    for (let i = 0; i < n; i++) times.push(await trial(inFlight));
    const s = (ms) => (ms >= CAP ? `> ${CAP / 1000} s` : `${(ms / 1000).toFixed(1)} s`);
    rows.push(`| ${name} | ${inFlight ? 'a message in flight' : 'idle'} | ${s(median(times))} | ${times.map(s).join(', ')} |`);
    console.error(rows.at(-1));
  }
}
console.log(['| library | when the path dies | detected after (median) | trials |', '| --- | --- | --- | --- |', ...rows].join('\n'));
process.exit(0);
