// Ablation builds: copies of a build with one piece of the WebSocket round trip removed, to learn
// what each piece costs (`node bench/ab.mjs ws 8 raw <base> <copies>… --worker`, or
// bench/rtt-sides.mjs). They break what they remove (no payload check, no promise that settles…):
// for measuring only. Each patch replaces one exact text of the build and fails loudly when that
// text is not there once (the source moved on: update the patch). Not part of `npm run bench`.
//   node bench/ablate.mjs <base dist dir> <out dir> [name...]   # writes <out dir>/<name>/, all by default
import { cpSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [base, out, ...only] = process.argv.slice(2);
if (!base || !out) {
  console.error('usage: node bench/ablate.mjs <base dist dir> <out dir> [name...]');
  process.exit(2);
}
const chunk = (prefix) => join('chunks', readdirSync(join(base, 'chunks')).find((f) => f.startsWith(prefix) && f.endsWith('.mjs')));
// [file, text, replacement]; the chunks are shared by client and server, so most remove a piece on both ends.
const patches = {
  // The payload check (data.ts `scan`), both ends.
  nocheck: [[chunk('data-'), 'const bytes = scan(data, false, 0);', 'const bytes = false;']],
  // The client's UTF-8 length (TextEncoder.encodeInto); the server counts with Buffer.byteLength.
  noutf8: [[chunk('limits-'), 'function utf8Length(s) {', 'function utf8Length(s) { return s.length;']],
  // The received frames' field checks (codec.ts `decode`), both ends.
  nodecodecheck: [[chunk('data-'), 'for (const f of list) {', 'for (const f of []) {']],
  // The promise per send (every send returns one resolved promise), both ends.
  nopromise: [[chunk('api-'), 'p = new Promise((res, rej) => ((ok = res), (no = rej)));', 'p = done;']],
  // The batcher's end-of-tick promise reaction: it writes at once instead (no batching).
  noreaction: [[chunk('api-'), 'void done.then(b.flush);', 'b.flush();']],
  // Settling a send's promise on its ack.
  nosettle: [[chunk('api-'), 'e.ok?.();', '']],
};
patches.promises = [...patches.nopromise, ...patches.noreaction];
patches.checks = [...patches.nocheck, ...patches.noutf8, ...patches.nodecodecheck];
patches.all = [...patches.checks, ...patches.promises];

for (const [name, list] of Object.entries(patches)) {
  if (only.length && !only.includes(name)) continue;
  const dir = join(out, name);
  rmSync(dir, { recursive: true, force: true });
  cpSync(base, dir, { recursive: true });
  for (const [file, from, to] of list) {
    const text = readFileSync(join(dir, file), 'utf8');
    if (text.split(from).length !== 2) throw new Error(`${name}: "${from}" is not in ${file} exactly once`);
    writeFileSync(join(dir, file), text.replace(from, to));
  }
  console.log(dir);
}
