// `npm run bench:store`: what the Redis store costs beside the in-memory one, per rung. One server
// process (memory store, then Redis store against a local redis-server on a loopback port), one
// client process; round trips (sequential echo), uplink and downlink throughput (acknowledged
// messages per second). Uses dist/ (run `npm run build` first). Prints a Markdown table.
import { fork, spawn } from 'node:child_process';
import net from 'node:net';
import { median, payload, quantile, sleep } from './lib/common.mjs';

// WIREFALL_DIST points at another build (an A/B of the memory store before and after a change).
const dist = process.env.WIREFALL_DIST ? new URL(`file://${process.env.WIREFALL_DIST.replace(/\/$/, '')}`).href : new URL('../dist', import.meta.url).href;
const ROUNDS = Number(process.env.ROUNDS ?? 500);
const BURST = Number(process.env.BURST ?? 10_000);
/** Runs of each store, alternating (memory, redis, redis, memory, …): the machine is shared and noisy. */
const REPS = Number(process.env.REPS ?? 3);

if (process.argv[2] === 'server') {
  const { createServer } = await import(`${dist}/server.mjs`);
  const store = process.argv[3] === 'redis' ? (await import(`${dist}/server-redis.mjs`)).redisStore({ url: process.argv[4], prefix: `bench${process.pid}` }) : undefined;
  const server = createServer({ store, logger: { warn() {} }, replay: { maxMessages: 1_000_000 }, rateLimit: { session: false, ip: false } });
  server.on('connection', (conn) => {
    conn.subscribe('echo', (d) => void conn.send('echoed', d).catch(() => {}));
    conn.subscribe('go', (d) => {
      for (let i = 0; i < d.n; i++) void conn.send('data', payload('data', i)).catch(() => {});
    });
    conn.subscribe('up', () => {});
  });
  const port = await server.listen(0);
  process.send({ port });
  process.on('message', () => void server.close().then(() => process.exit(0)));
} else {
  const { connect } = await import(`${dist}/index.mjs`);
  const { WebSocket } = await import('ws');
  const redisPort = await freePort();
  const redis = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  await sleep(300);
  const rows = [];
  try {
    const order = Array.from({ length: REPS }, (_, i) => (i % 2 ? ['redis', 'memory'] : ['memory', 'redis'])).flat();
    for (const store of order) {
      const child = fork(new URL(import.meta.url).pathname, ['server', store, `redis://127.0.0.1:${redisPort}`]);
      const { port } = await new Promise((r) => child.once('message', r));
      for (const rung of ['ws', 'sse', 'longpoll']) {
        const c = connect(`http://127.0.0.1:${port}/wirefall`, { WebSocket, transports: [rung], outbox: { maxMessages: 1_000_000 } });
        await new Promise((r) => c.on('state', (s) => s === 'open' && r()));
        // Round trips, one after another.
        const rtts = [];
        for (let i = 0; i < ROUNDS; i++) {
          const t = performance.now();
          await new Promise((r) => {
            const off = c.subscribe('echoed', () => (off(), r()));
            void c.send('echo', payload('echo', i));
          });
          rtts.push(performance.now() - t);
        }
        rtts.sort((a, b) => a - b);
        // Uplink: BURST messages, until the server acknowledged the last.
        let t = performance.now();
        const sends = [];
        for (let i = 0; i < BURST; i++) sends.push(c.send('up', payload('up', i)));
        await Promise.all(sends);
        const up = BURST / ((performance.now() - t) / 1000);
        // Downlink: BURST messages, until the client has them all.
        t = performance.now();
        await new Promise((r) => {
          let n = 0;
          const off = c.subscribe('data', () => ++n === BURST && (off(), r()));
          void c.send('go', { n: BURST });
        });
        const down = BURST / ((performance.now() - t) / 1000);
        rows.push({ store, rung, p50: quantile(rtts, 0.5), p99: quantile(rtts, 0.99), up, down });
        c.close();
        await sleep(100);
      }
      child.send('close');
      await new Promise((r) => child.once('exit', r));
    }
  } finally {
    redis.kill('SIGKILL');
  }
  console.log(`Medians of ${REPS} runs each (${ROUNDS} round trips, bursts of ${BURST.toLocaleString('en')} messages).\n`);
  console.log(`| store | rung | RTT p50 ms | RTT p99 ms | up msg/s | down msg/s |\n| --- | --- | --- | --- | --- | --- |`);
  for (const rung of ['ws', 'sse', 'longpoll']) {
    for (const store of ['memory', 'redis']) {
      const rs = rows.filter((r) => r.store === store && r.rung === rung);
      const m = (k) => median(rs.map((r) => r[k]));
      console.log(`| ${store} | ${rung} | ${m('p50').toFixed(2)} | ${m('p99').toFixed(2)} | ${Math.round(m('up')).toLocaleString('en')} | ${Math.round(m('down')).toLocaleString('en')} |`);
    }
  }
  process.exit(0);
}

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}
