// `npm run test:loaded`: the whole suite while a CPU hog keeps every core busy. A test that
// passes only on an idle machine is a failing test; this is how we find them before CI does.
// Usage: node scripts/test-loaded.mjs [command…]   (default: npm test)
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

const hogs = Number(process.env.HOGS ?? availableParallelism());
// Each hog spins for 50 ms and yields briefly, like a busy neighbour process rather than a lock-up.
const spin = `const { parentPort } = require('node:worker_threads');
let stop = false; parentPort.on('message', () => (stop = true));
(function burn() { const end = Date.now() + 50; while (Date.now() < end) Math.sqrt(Math.random()); if (!stop) setImmediate(burn); })();`;
const workers = Array.from({ length: hogs }, () => new Worker(spin, { eval: true }));
const [cmd, ...args] = process.argv.length > 2 ? process.argv.slice(2) : ['npm', 'test'];
console.log(`test:loaded: ${hogs} CPU hog(s) running beside: ${[cmd, ...args].join(' ')}`);
const t0 = Date.now();
const child = spawn(cmd, args, { stdio: 'inherit' });
child.on('exit', (code, signal) => {
  for (const w of workers) w.postMessage('stop');
  setTimeout(() => {
    for (const w of workers) void w.terminate();
    console.log(`test:loaded: finished in ${Math.round((Date.now() - t0) / 1000)} s with ${signal ?? `exit code ${code}`}`);
    process.exit(code ?? 1);
  }, 100);
});
