import { readdirSync, readFileSync } from 'node:fs';
const dir = process.argv[2];
const root = process.cwd() + '/';
for (const f of readdirSync(dir).filter((x) => x.endsWith('.cpuprofile'))) {
  const p = JSON.parse(readFileSync(`${dir}/${f}`, 'utf8'));
  const self = new Map(); const byFile = new Map(); const dt = new Map();
  for (let i = 0; i < p.samples.length; i++) dt.set(p.samples[i], (dt.get(p.samples[i]) ?? 0) + (p.timeDeltas[i + 1] ?? 0));
  let total = 0;
  for (const n of p.nodes) {
    const t = (dt.get(n.id) ?? 0) / 1000; if (!t) continue;
    const cf = n.callFrame;
    const file = cf.url ? cf.url.replace(/^file:\/\//, '').replace(root, '') : '(native)';
    const name = `${cf.functionName || '(anonymous)'} ${file.split('/').slice(-2).join('/')}:${cf.lineNumber + 1}`;
    if (cf.functionName === '(idle)' || cf.functionName === '(program)') continue;
    total += t; self.set(name, (self.get(name) ?? 0) + t);
    const key = file.includes('node_modules/') ? file.replace(/.*node_modules\/((@[^/]+\/)?[^/]+).*/, 'node_modules/$1') : file.startsWith('node:') ? 'node: internals' : file;
    byFile.set(key, (byFile.get(key) ?? 0) + t);
  }
  const top = (m, n) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, v]) => `  ${v.toFixed(1).padStart(8)} ms ${((100 * v) / total).toFixed(1).padStart(5)}%  ${k}`);
  console.log(`\n== ${f}: ${total.toFixed(0)} ms busy\n-- by file`); console.log(top(byFile, 8).join('\n'));
  console.log('-- by function (self time)'); console.log(top(self, Number(process.argv[3] ?? 30)).join('\n'));
}
