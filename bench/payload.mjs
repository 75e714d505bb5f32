// The cost of checking and encoding application data (src/protocol/data.ts) against the plain
// `JSON.stringify` it replaced, per message, and base64 throughput. `node bench/payload.mjs`.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = await build({ entryPoints: [`${root}src/protocol/data.ts`], bundle: true, format: 'esm', write: false, platform: 'neutral' });
const { encodeData, decodeData } = await import(`data:text/javascript;base64,${Buffer.from(out.outputFiles[0].text).toString('base64')}`);

function time(name, fn, n) {
  for (let i = 0; i < n / 10; i++) fn();
  const t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn();
  const ns = Number(process.hrtime.bigint() - t) / n;
  console.log(`${name.padEnd(48)} ${ns.toFixed(0).padStart(7)} ns/op`);
  return ns;
}

const small = { from: 'guest-1', text: 'hello there', n: 42 };
const medium = { items: Array.from({ length: 50 }, (_, i) => ({ id: i, name: `item ${i}`, tags: ['a', 'b'], price: i * 1.5, ok: i % 2 === 0 })) };
for (const [name, data, n] of [['small chat message (3 fields)', small, 1_000_000], ['50-row table (300 values)', medium, 20_000]]) {
  const a = time(`${name}: JSON.stringify`, () => JSON.stringify(data), n);
  const b = time(`${name}: encodeData (check + stringify)`, () => encodeData(data, 'x'), n);
  console.log(`${''.padEnd(48)} +${(b - a).toFixed(0)} ns (${((b / a - 1) * 100).toFixed(0)} %)`);
}
const blob = Uint8Array.from({ length: 1 << 20 }, (_, i) => (i * 2654435761) >>> 24);
const enc = encodeData({ blob }, 'x');
const ms = time('1 MiB of bytes: encodeData', () => encodeData({ blob }, 'x'), 20) / 1e6;
const ms2 = time('1 MiB of bytes: decodeData(JSON.parse(...))', () => decodeData(JSON.parse(enc.payload), enc.e), 20) / 1e6;
console.log(`bytes: ${(1 / ms * 1000).toFixed(0)} MiB/s encoded, ${(1 / ms2 * 1000).toFixed(0)} MiB/s decoded; ${enc.payload.length} characters for 1,048,576 bytes`);
