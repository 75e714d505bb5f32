import { Worker } from 'node:worker_threads';
import WS from 'ws';
import { payload } from './lib/common.mjs';
const { connect } = await import(process.env.WIREFALL_DIST ? `${process.env.WIREFALL_DIST}/index.mjs` : '../dist/index.mjs');
const worker = new Worker(new URL('./server.mjs', import.meta.url), { workerData: { lib: 'wirefall' } });
const { port } = await new Promise((r) => worker.on('message', (m) => m?.ready && r(m)));
const c = connect(`http://127.0.0.1:${port}/wirefall`, { WebSocket: WS, transports: ['ws'] });
await new Promise((r) => c.on('state', (s) => s === 'open' && r()));
let answer; c.subscribe('echoed', () => answer());
const t = [];
for (let i = 0; i < 40000; i++) { const got = new Promise((r) => (answer = r)); const t0 = performance.now(); c.send('echo', payload('echo', i)).catch(() => {}); await got; if (i >= 5000) t.push(performance.now() - t0); }
t.sort((a, b) => a - b);
console.log('p50', (t[t.length >> 1] * 1000).toFixed(1), 'p99', (t[Math.floor(t.length * 0.99)] * 1000).toFixed(1));
c.close(); await worker.terminate(); process.exit(0);
