// Every relative link in the packed Markdown (README, docs/) must point at a file that is in the
// package too: npm's and the registry's README views, and anyone reading node_modules/wirefall,
// only have the tarball. Links to what is not packed (docs/img, test/, examples/, lab/) belong on
// GitHub, as absolute URLs. Lists what `npm pack` would pack; writes nothing.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const [pack] = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { encoding: 'utf8' }));
const packed = new Set(pack.files.map((f) => f.path));
const isPackedDir = (p) => [...packed].some((f) => f.startsWith(p.replace(/\/$/, '') + '/'));

/** Links outside code: inline `[text](target)` / `![alt](target)`, reference definitions, and `src`/`href` in HTML. */
export function linksIn(markdown) {
  const text = markdown.replace(/^(```|~~~)[\s\S]*?^\1/gm, '').replace(/`[^`\n]*`/g, '');
  const links = [];
  for (const m of text.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) links.push(m[1]);
  for (const m of text.matchAll(/^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/gm)) links.push(m[1]);
  for (const m of text.matchAll(/<(?:img|a|source)\b[^>]*\b(?:src|href)="([^"]+)"/g)) links.push(m[1]);
  return links;
}

const broken = [];
let checked = 0;
for (const file of [...packed].filter((f) => f.endsWith('.md')).sort()) {
  for (const link of linksIn(readFileSync(file, 'utf8'))) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(link) || link.startsWith('#') || link.startsWith('//')) continue;
    checked++;
    const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), decodeURI(link.split('#')[0])));
    if (!packed.has(target) && !isPackedDir(target)) broken.push(`${file}: ${link} (${target} is not in the package)`);
  }
}
if (broken.length) {
  console.error(`check-links: ${broken.length} relative link(s) in packed Markdown point outside the package:\n  ${broken.join('\n  ')}`);
  process.exit(1);
}
console.log(`check-links: ${checked} relative links in ${[...packed].filter((f) => f.endsWith('.md')).length} packed Markdown files all resolve inside the package`);
