// Cost under faults (issue 15): a gateway that refuses every WebSocket upgrade (403) and answers
// 502 to one POST in four after the server handled it (the answer is lost, not the request).
// One wirefall client talks through it for DURATION: a message every 50 ms each way (sent, then
// echoed). Counts what the gateway saw, per minute, and checks delivery: every message exactly
// once, in order, both ways. Not part of `npm run bench`.
// With `lp`: long-polling alone, behind a gateway that answers 504 to one poll in three (the
// server handled the poll: its answer is what is lost), every POST passing.
//   node bench/faults.mjs [seconds]            # this build (dist/)
//   node bench/faults.mjs [seconds] lp         # long-polling, 504 to one poll in three
//   WIREFALL_DIST=/path/to/dist node bench/faults.mjs   # another build, for a before/after
import http from 'node:http';
import WS from 'ws';

const SECONDS = Number(process.argv[2] ?? 20);
const LP = process.argv[3] === 'lp';
const dist = process.env.WIREFALL_DIST ? `file://${process.env.WIREFALL_DIST.replace(/\/$/, '')}` : new URL('../dist', import.meta.url).href;
const { connect } = await import(`${dist}/index.mjs`);
const { createServer } = await import(`${dist}/server.mjs`);

const server = createServer({ logger: { warn() {}, info() {}, error() {} } });
const got = [];
server.on('connection', (conn) => conn.subscribe('up', (d) => (got.push(d.i), void conn.send('down', d).catch(() => {}))));
const upstream = await server.listen(0);
const upPort = typeof upstream === 'number' ? upstream : upstream.port ?? server.port;

const seen = { connections: 0, upgrades: 0, sse: 0, longpolls: 0, polls: 0, posts: 0, failedPosts: 0, failedPolls: 0, other: 0 };
const agent = new http.Agent({ keepAlive: true });
const gateway = http.createServer((req, res) => {
  const q = req.url ?? '';
  // Protocol 3 opens with a POST (no sid, an uplink id `u`) whose answer is the stream or the
  // first poll; protocol 2 with a ticket POST, then a GET. Either way one open counts once.
  const opens = req.method === 'GET' || (req.method === 'POST' && !q.includes('sid=') && /[?&]u=/.test(q));
  // A poll, the long-poll open included (its answer is the first poll's).
  const poll = req.method === 'POST' && (/[?&]poll=/.test(q) || (opens && q.includes('t=lp')));
  if (poll) seen.polls++;
  if (req.method === 'POST') seen.posts++;
  if (opens && q.includes('t=sse')) seen.sse++;
  else if (opens && q.includes('t=lp')) seen.longpolls++;
  else if (req.method !== 'POST') seen.other++;
  const lose = LP ? poll && seen.polls % 3 === 0 : req.method === 'POST' && seen.posts % 4 === 0;
  const up = http.request({ host: '127.0.0.1', port: upPort, method: req.method, path: q, headers: req.headers, agent }, (r) => {
    if (lose) {
      if (poll) seen.failedPolls++;
      else seen.failedPosts++;
      r.resume();
      r.on('end', () => res.writeHead(LP ? 504 : 502).end());
      return;
    }
    res.writeHead(r.statusCode ?? 502, r.headers);
    r.pipe(res);
  });
  up.on('error', () => res.destroy());
  req.pipe(up);
  res.on('close', () => up.destroy());
});
gateway.on('connection', () => seen.connections++);
gateway.on('upgrade', (req, socket) => {
  seen.upgrades++;
  socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
});
await new Promise((r) => gateway.listen(0, '127.0.0.1', r));
const port = gateway.address().port;

const client = connect(`http://127.0.0.1:${port}/wirefall`, { WebSocket: WS, transports: LP ? ['longpoll'] : ['ws', 'sse', 'longpoll'] });
const back = [];
let errors = 0;
client.on('error', () => errors++);
let reconnects = 0;
client.on('state', (s) => s === 'reconnecting' && reconnects++);
// Round trip of each echo (sent to echoed back), ms.
const sentAt = [];
const rtt = [];
client.subscribe('down', (d) => (back.push(d.i), rtt.push(performance.now() - sentAt[d.i])));
let sent = 0;
const sends = [];
const t0 = Date.now();
await new Promise((resolve) => {
  const timer = setInterval(() => {
    if (Date.now() - t0 >= SECONDS * 1000) return clearInterval(timer), resolve();
    sentAt[sent] = performance.now();
    sends.push(client.send('up', { i: sent++ }).catch(() => 'rejected'));
  }, 50);
});
const settled = await Promise.race([Promise.all(sends), new Promise((r) => setTimeout(() => r('timeout'), 15_000))]);
await new Promise((r) => setTimeout(r, 500));
const inOrder = (xs) => xs.length === sent && xs.every((x, i) => x === i);
const perMin = (n) => Math.round((n * 60) / SECONDS);
const row = {
  build: process.env.WIREFALL_DIST ?? 'dist',
  seconds: SECONDS,
  'TCP connections/min': perMin(seen.connections),
  'refused upgrades/min': perMin(seen.upgrades),
  'event streams/min': perMin(seen.sse),
  'long-poll links/min': perMin(seen.longpolls),
  'polls/min': perMin(seen.polls),
  'POSTs/min (polls included)': perMin(seen.posts),
  '502s injected': seen.failedPosts,
  '504s injected': seen.failedPolls,
  reconnects,
  errors,
  rung: client.rung,
  'echo ms p50/p99/max': [0.5, 0.99, 1].map((q) => Math.round(rtt.sort((a, b) => a - b)[Math.min(rtt.length - 1, Math.floor(q * rtt.length))] ?? NaN)).join('/'),
  'sent/acked': `${sent}/${settled === 'timeout' ? 'timeout' : settled.filter((x) => x !== 'rejected').length}`,
  'server got all once, in order': inOrder(got),
  'client got all once, in order': inOrder(back),
};
console.log(JSON.stringify(row));
client.close();
await server.close();
gateway.close();
gateway.closeAllConnections?.();
agent.destroy();
process.exit(0);
