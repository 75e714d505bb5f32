// Requests and connections a page load costs on a clean network (issue 15): a cold start (nothing
// remembered) and a warm one (the rung remembered), counted at the server until the first echo
// is back and for 2 s after. Not part of `npm run bench`.
//   node bench/requests.mjs                        # this build (dist/)
//   WIREFALL_DIST=/path/to/dist node bench/requests.mjs
import http from 'node:http';
import WS from 'ws';

const dist = process.env.WIREFALL_DIST ? `file://${process.env.WIREFALL_DIST.replace(/\/$/, '')}` : new URL('../dist', import.meta.url).href;
const { connect } = await import(`${dist}/index.mjs`);
const { createServer } = await import(`${dist}/server.mjs`);

const httpServer = http.createServer();
const seen = { tcp: 0, upgrades: 0, gets: 0, posts: 0 };
httpServer.on('connection', () => seen.tcp++);
httpServer.on('upgrade', () => seen.upgrades++);
httpServer.on('request', (req) => (process.env.VERBOSE && console.error(req.method, req.url), req.method === 'POST' ? seen.posts++ : seen.gets++));
const server = createServer({ server: httpServer, path: '/wirefall', logger: { warn() {}, info() {}, error() {} } });
server.on('connection', (conn) => conn.subscribe('echo', (d) => void conn.send('echoed', d).catch(() => {})));
await new Promise((r) => httpServer.listen(0, '127.0.0.1', r));
const url = `http://127.0.0.1:${httpServer.address().port}/wirefall`;

const map = new Map();
const storage = { getItem: (k) => map.get(k) ?? null, setItem: (k, v) => void map.set(k, v), removeItem: (k) => void map.delete(k) };
async function load(label, at = url) {
  for (const k in seen) seen[k] = 0;
  // The ladder as a browser on an http page has it, but with no wss listener: ws, sse, longpoll.
  const c = connect(at, { WebSocket: WS, transports: ['ws', 'sse', 'longpoll'], platform: { storage } });
  const t0 = performance.now();
  await new Promise((r) => (c.subscribe('echoed', r), c.send('echo', { n: 1 }).catch(() => {})));
  const ms = performance.now() - t0;
  await new Promise((r) => setTimeout(r, 2000));
  console.log(JSON.stringify({ load: label, firstEchoMs: Math.round(ms * 10) / 10, rung: c.rung, ...seen, ...(process.env.VERBOSE && { attempts: c.attempts.map((a) => `${a.rung}:${a.outcome}:${a.reason ?? ''}+${a.duration}`) }) }));
  c.close();
  await new Promise((r) => setTimeout(r, 200));
}
// Untimed, on another URL (the memory is per URL): module loading and JIT are not a page load's.
await load('untimed', `${url}?warmup`);
await load('cold');
await load('warm');
await load('warm');
await server.close();
httpServer.closeAllConnections?.();
process.exit(0);
