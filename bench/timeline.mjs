// What the server and the client were doing at the same moments, from the CPU profiles that
// bench/profile.mjs writes: V8 stamps samples with the monotonic clock, so the two processes'
// profiles line up. One line per bin, the commonest activities of each side. Not part of
// `npm run bench`. It showed that a long-polling burst's two ends worked one after the other
// (docs/benchmarks-history.md, "the HTTP rungs' bursts on a timeline").
//   node bench/profile.mjs wirefall longpoll s2c 3
//   node bench/timeline.mjs bench/results/profiles/wirefall-longpoll-s2c [from end, ms: 300] [span, ms: 150] [bin, µs: 1000]
// Letters: the first of these functions found on a sample's stack, leaf first (`?` for none).
import { readFileSync } from 'node:fs';

const [dir, fromEnd = '300', span = '150', binUs = '1000'] = process.argv.slice(2);
if (!dir) {
  console.error('usage: node bench/timeline.mjs <profile dir> [from end, ms] [span, ms] [bin, µs]');
  process.exit(2);
}
const LETTERS = [
  ['(garbage collector)', 'G'], ['(idle)', '.'], ['(program)', 'p'],
  ['takeUnsent', 't'], ['sendFrames', 'j'], ['answer', 'A'], ['tryEncode', 'e'], ['sendEncoded', 'o'],
  ['receiveOrdered', 'U'], ['deliverUplink', 'U'], ['decode', 'd'], ['deliver', 'D'], ['fetch', 'F'], ['runMicrotasks', 'm'],
];
console.log(LETTERS.map(([f, l]) => `${l} ${f}`).join(', '));

/** [time µs, letter] per sample. */
function samples(file) {
  const p = JSON.parse(readFileSync(file, 'utf8'));
  const node = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const memo = new Map();
  const letter = (id) => {
    if (!memo.has(id)) {
      const names = [];
      for (let x = id; x !== undefined; x = parent.get(x)) names.push(node.get(x).callFrame.functionName);
      memo.set(id, LETTERS.find(([f]) => names.some((n) => n === f || n.startsWith(`${f} `)))?.[1] ?? '?');
    }
    return memo.get(id);
  };
  let t = p.startTime;
  return p.samples.map((id, i) => [(t += p.timeDeltas[i]), letter(id)]);
}

const sides = ['server', 'client'].map((s) => samples(`${dir}/${s}.cpuprofile`));
const t0 = Math.min(...sides.map((s) => s[s.length - 1][0])) - Number(fromEnd) * 1000;
const bins = sides.map((s) => {
  const m = new Map();
  for (const [t, l] of s) {
    const b = Math.floor((t - t0) / Number(binUs));
    if (t < t0 || b * Number(binUs) >= Number(span) * 1000) continue;
    const h = m.get(b) ?? m.set(b, {}).get(b);
    h[l] = (h[l] ?? 0) + 1;
  }
  return m;
});
const top = (h) => Object.entries(h ?? {}).sort((a, b) => b[1] - a[1]).slice(0, 3).map(([l, n]) => `${l}${n}`).join(' ').padEnd(14);
for (let b = 0; b * Number(binUs) < Number(span) * 1000; b++) {
  console.log(`${((b * Number(binUs)) / 1000).toFixed(1).padStart(7)} ms  server ${top(bins[0].get(b))}  client ${top(bins[1].get(b))}`);
}
