// Bytes on WebSocket: what a 64 KiB Uint8Array costs on the wire and in time, as one binary
// WebSocket message (docs/protocol.md §1.3) against base64 inside text (what the ws rung sent
// before, and what SSE and long-polling send). `npm run build`, then:
//
//   node bench/binary.mjs [--baseline <dist of a build that sent base64 on ws>]
//
// Server (dist/server.mjs) and a Node client (dist/index.mjs, the `ws` package) in one process on
// 127.0.0.1: the server echoes `put` as `got`. The server encodes with Node's base64, and so does
// the client in this process (a browser's client uses the portable table: slower on its side). Measured: bytes per message on the wire each way
// (counted at the client's socket), the round trip of one message at a time (median of 300), and
// the throughput of 10 rounds of 32 messages in flight (echoed, so each crosses twice).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const SIZE = 64 * 1024;

if (args[0] === '--run') await measure(args[1], args[2]);
else {
  const baseline = args[args.indexOf('--baseline') + 1];
  const runs = [['ws', `${root}dist`], ['ws-text', `${root}dist`], ['sse', `${root}dist`]];
  if (args.includes('--baseline')) runs.unshift(['ws', baseline]);
  console.log(`| build | rung | wire up (bytes) | wire down (bytes) | round trip, median | 32 in flight, echoed |`);
  console.log(`| --- | --- | --- | --- | --- | --- |`);
  for (const [rung, dist] of runs) {
    const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--run', dist, rung], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    process.stdout.write(r.stdout);
  }
}

async function measure(dist, rung) {
  const { createServer } = await import(`${dist}/server.mjs`);
  const { connect } = await import(`${dist}/index.mjs`);
  const { default: WebSocket } = await import('ws');
  const server = createServer({ logger: { warn() {} } });
  server.on('connection', (conn) => conn.subscribe('put', (d) => void conn.send('got', d).catch(() => {})));
  const port = await server.listen(0, '127.0.0.1');
  const wire = { up: [], down: [] };
  // `ws-text`: WebSocket with binary messages not negotiated (the `bin` of the hello and the
  // welcome removed on the way), as between this branch and an older peer: base64 text.
  const text = rung === 'ws-text';
  const unbin = (s) => (text ? s.replace(',"bin":1', '') : s);
  class Counting extends WebSocket {
    constructor(...a) {
      super(...a);
      this.on('message', (d) => d.length > SIZE / 2 && wire.down.push(d.length));
    }
    on(event, fn) {
      if (event !== 'message' || !text) return super.on(event, fn);
      return super.on(event, (d, binary) => fn(binary ? d : Buffer.from(unbin(String(d))), binary));
    }
    send(data, ...rest) {
      if (typeof data === 'string') data = unbin(data);
      const n = typeof data === 'string' ? Buffer.byteLength(data) : data.length;
      if (n > SIZE / 2) wire.up.push(n);
      super.send(data, ...rest);
    }
  }
  const c = connect(`http://127.0.0.1:${port}/wirefall`, { WebSocket: Counting, transports: [text ? 'ws' : rung], ...(process.env.DEBUG && { logger: console }) });
  await new Promise((r) => c.on('state', (s) => s === 'open' && r()));
  const body = Uint8Array.from({ length: SIZE }, (_, i) => (i * 2654435761) >>> 24);
  let waiting = [];
  c.subscribe('got', (d) => {
    if (d.body.length !== SIZE) throw new Error('wrong size');
    waiting.shift()?.();
  });
  const roundTrip = () => new Promise((r) => (waiting.push(r), void c.send('put', { body })));
  for (let i = 0; i < 30; i++) await roundTrip(); // warm up
  const rtts = [];
  for (let i = 0; i < 300; i++) {
    const t = performance.now();
    await roundTrip();
    rtts.push(performance.now() - t);
  }
  rtts.sort((a, b) => a - b);
  // 10 rounds of 32 in flight: within the outbox (8 MiB) and the server's slow-reader bound (4 MiB).
  const t = performance.now();
  for (let round = 0; round < 10; round++) await Promise.all(Array.from({ length: 32 }, roundTrip));
  const s = (performance.now() - t) / 1000;
  const mib = (320 * SIZE * 2) / 2 ** 20;
  const med = (xs) => xs.slice().sort((a, b) => a - b)[xs.length >> 1];
  const name = dist.startsWith(root) ? 'this branch' : 'baseline';
  // SSE counts nothing at the socket: its wire is base64 text like the baseline's.
  const up = wire.up.length ? med(wire.up).toLocaleString('en-US') : '(base64 text)';
  const down = wire.down.length ? med(wire.down).toLocaleString('en-US') : '(base64 text)';
  console.log(`| ${name} | ${rung} | ${up} | ${down} | ${rtts[150].toFixed(2)} ms | ${(mib / s).toFixed(0)} MiB/s |`);
  await c.close();
  await server.close();
  process.exit(0);
}
