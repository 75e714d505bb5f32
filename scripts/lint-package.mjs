// `npm run lint:package`: checks the package as npm would publish it, with the tools the ecosystem
// uses, and fails on any problem. Run after `npm run build` (the `test` script does both).
//   attw --pack     types resolve to the right declarations in node10, node16 (CJS and ESM), bundler
//   publint         package.json's fields and exports agree with the packed files
//   tsc (3 times)   the published declarations compile strictly (skipLibCheck off) for a NodeNext and a
//                   bundler consumer, including the UMD global, and under the strictest flags apps use
//                   (exactOptionalPropertyTypes, noUncheckedIndexedAccess, verbatimModuleSyntax) (test/package/)
//   check-links     every relative link in the packed Markdown resolves inside the package
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

for (const f of ['dist/index.mjs', 'dist/index.d.cts', 'dist/wirefall.umd.d.ts']) {
  if (!existsSync(f)) {
    console.error(`lint:package: ${f} is missing; run \`npm run build\` first`);
    process.exit(1);
  }
}
const steps = [
  ['attw', ['--pack', '.']],
  ['publint', ['--strict']],
  ['tsc', ['-p', 'test/package/tsconfig.nodenext.json']],
  ['tsc', ['-p', 'test/package/tsconfig.bundler.json']],
  ['tsc', ['-p', 'test/package/tsconfig.strictest.json']],
  ['node', ['scripts/check-links.mjs']],
];
const failed = [];
for (const [cmd, args] of steps) {
  const line = [cmd, ...args].join(' ');
  console.log(`\nlint:package: ${line}`);
  const bin = cmd === 'node' ? process.execPath : `node_modules/.bin/${cmd}`;
  const r = spawnSync(bin, args, { stdio: 'inherit' });
  if (r.status !== 0) failed.push(line);
}
if (failed.length) {
  console.error(`\nlint:package: FAILED: ${failed.join('; ')}`);
  process.exit(1);
}
console.log('\nlint:package: attw, publint, declaration compile and links all clean');
