// The WebSocket round trip's CPU, one side at a time, in one thread (no second thread or process
// sharing the core, no load from the other end): what `bench/ab.mjs ws … --worker` cannot tell
// apart, since there both ends share one core. Not part of `npm run bench`.
//   node bench/rtt-sides.mjs client <rounds> <raw|distDir>...   # the client against a fake socket
//   node bench/rtt-sides.mjs server <rounds> <raw|distDir>...   # the server against a bare `ws` client
// `client`: the real client of a build, given a `WebSocket` that answers each message as the
// bench's echo server would (the `ws` package's surface: Buffers, `on('message')`), in the next
// macrotask; the raw variant sends and parses the payload over the same fake. `server`: the bench's
// echo app on a real server and socket, and a `ws` client writing the wire protocol by hand (the
// raw variant: raw `ws` on both ends). Each round runs every variant in a fresh process, pinned to
// one core; it prints the median µs of CPU (process.cpuUsage, user + system) per round trip, and
// the rounds'. The peer's work is in every figure: compare variants, not a figure with raw's.
// The client side resolves ~0.2 µs (its rounds spread ~±3 %); the server side only ~1 µs, since
// ~22 µs of its figure is the kernel's loopback (both ends' socket writes).
import { execFileSync, fork } from 'node:child_process';
import { resolve } from 'node:path';
import { median, payload } from './lib/common.mjs';

const WARM = 10_000;
const N = 30_000;

if (process.argv[2] === '--one') {
  const [, , , side, variant] = process.argv;
  try {
    execFileSync('taskset', ['-p', '-c', '1', String(process.pid)], { stdio: 'ignore' });
  } catch {
    /* not pinned: no taskset */
  }
  const { send, on } = await (side === 'client' ? clientSide : serverSide)(variant);
  let answer;
  on(() => answer());
  let perTrip;
  for (const n of [WARM, N]) {
    const c0 = process.cpuUsage();
    for (let i = 0; i < n; i++) {
      const got = new Promise((r) => (answer = r));
      send(payload('echo', i));
      await got;
    }
    const c = process.cpuUsage(c0);
    perTrip = (c.user + c.system) / n;
  }
  process.send(perTrip);
  process.exit(0);
}

/** The client of `variant` against a fake socket that echoes as the bench's server (its frames, for wirefall). */
async function clientSide(variant) {
  let deliver;
  let seq = 0;
  const later = (text) => setImmediate(() => deliver(Buffer.from(text), false));
  class EchoSocket {
    readyState = 0;
    constructor() {
      setImmediate(() => ((this.readyState = 1), this.onopen?.(), this.emitOpen?.()));
    }
    on(event, fn) {
      if (event === 'message') deliver = fn;
      if (event === 'open') this.emitOpen = fn;
    }
    close() {}
    send(data) {
      const text = typeof data === 'string' ? data : Buffer.from(data).toString();
      if (variant === 'raw') {
        const m = JSON.parse(text);
        m.k = 'echoed';
        return later(JSON.stringify(m));
      }
      if (text.startsWith('{"t":"hello"')) {
        later('{"t":"greet","v":[3,2,1]}');
        return later('{"t":"welcome","v":3,"sid":"s","key":"k","hb":60000,"ack":0,"resumed":false,"max":1048576,"bin":1,"pa":1,"run":1}');
      }
      const f = JSON.parse(text);
      for (const m of Array.isArray(f) ? f : [f]) {
        if (m.t !== 'msg') continue;
        m.d.k = 'echoed';
        later(`{"t":"msg","a":${m.s},"s":${++seq},"ev":"echoed","d":${JSON.stringify(m.d)}}`);
      }
    }
  }
  if (variant === 'raw') {
    const ws = new EchoSocket();
    let fn;
    ws.on('message', (data) => JSON.parse(data.toString()).k === 'echoed' && fn());
    await new Promise((r) => ws.on('open', r));
    return { send: (o) => ws.send(JSON.stringify(o)), on: (f) => (fn = f) };
  }
  const { connect } = await import(`${resolve(variant)}/index.mjs`);
  const c = connect('http://127.0.0.1:1/wirefall', { WebSocket: EchoSocket, transports: ['ws'] });
  await new Promise((r) => c.on('state', (s) => s === 'open' && r()));
  return { send: (o) => void c.send('echo', o).catch(() => {}), on: (f) => c.subscribe('echoed', f) };
}

/** The bench's echo app on `variant`'s server, and a bare `ws` client in this thread. */
async function serverSide(variant) {
  const { default: WS, WebSocketServer } = await import('ws');
  let fn;
  if (variant === 'raw') {
    const server = (await import('node:http')).createServer();
    new WebSocketServer({ server }).on('connection', (ws) =>
      ws.on('message', (data) => {
        const m = JSON.parse(data.toString());
        if (m.k !== 'echo') return;
        m.k = 'echoed';
        ws.send(JSON.stringify(m));
      }),
    );
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    const ws = new WS(`ws://127.0.0.1:${server.address().port}/`);
    ws.on('message', (d) => JSON.parse(d.toString()).k === 'echoed' && fn());
    await new Promise((r) => ws.once('open', r));
    return { send: (o) => ws.send(JSON.stringify(o)), on: (f) => (fn = f) };
  }
  const { createServer } = await import(`${resolve(variant)}/server.mjs`);
  // As bench/server.mjs: the rate limits off (~30,000 messages a second on one session).
  const server = createServer({ logger: { warn() {} }, rateLimit: { session: false, ip: false } });
  server.on('connection', (conn) =>
    conn.subscribe('echo', (d) => {
      d.k = 'echoed';
      void conn.send('echoed', d).catch(() => {});
    }),
  );
  const ws = new WS(`ws://127.0.0.1:${await server.listen(0)}/wirefall`);
  // The client's side of the protocol by hand: a hello, the claiming ack, then each message with its ack (`pa`, §4).
  let s = 0;
  let got = 0;
  let welcomed;
  const welcome = new Promise((r) => (welcomed = r));
  ws.on('message', (d) => {
    const f = JSON.parse(d.toString());
    for (const m of Array.isArray(f) ? f : [f]) {
      if (m.t === 'welcome') welcomed();
      else if (m.t === 'msg') (got = m.s), m.d.k === 'echoed' && fn();
    }
  });
  await new Promise((r) => ws.once('open', r));
  ws.send(JSON.stringify({ t: 'hello', v: 3, bin: 1, pa: 1 }));
  await welcome;
  ws.send('{"t":"ack","a":0}');
  return { send: (o) => ws.send(`{"t":"msg","a":${got},"s":${++s},"ev":"echo","d":${JSON.stringify(o)}}`), on: (f) => (fn = f) };
}

const [side, rounds = '5', ...variants] = process.argv.slice(2);
if ((side !== 'client' && side !== 'server') || variants.length === 0) {
  console.error('usage: node bench/rtt-sides.mjs <client|server> <rounds> <raw|distDir>...');
  process.exit(2);
}
const res = Object.fromEntries(variants.map((v) => [v, []]));
for (let r = 0; r < Number(rounds); r++) {
  for (const v of variants) {
    const child = fork(new URL(import.meta.url).pathname, ['--one', side, v]);
    res[v].push(await new Promise((ok, fail) => (child.once('message', ok), child.once('exit', (code) => fail(new Error(`${v}: exited ${code}`))))));
  }
}
for (const v of variants) console.log(`${v.padEnd(28)} ${median(res[v]).toFixed(2)} µs CPU per round trip  (${res[v].map((x) => x.toFixed(2)).join('/')})`);
