// Where the client bundle's bytes go, per source file (`node scripts/size-profile.mjs`): the
// `connect` entry bundled from src/ as scripts/size.mjs bundles dist/prod/ (esbuild, minified, for
// the browser, src/dev.ts as `DEV = false`), with esbuild's count of each file's minified bytes.
// Without terser's one-letter internal property names (rollup.config.mjs), so the total is a few
// hundred bytes over `npm run size`'s; the shares are what matter.
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { appEntry, bundleApp } from './app-bundle.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const production = {
  name: 'production',
  setup: (b) => b.onLoad({ filter: /src[\\/]dev\.ts$/ }, () => ({ contents: 'export const DEV = false;', loader: 'ts' })),
};
const out = await bundleApp({ contents: appEntry('./src/index.ts'), resolveDir: root, loader: 'ts' }, { plugins: [production] });
const { inputs } = Object.values(out.metafile.outputs)[0];
const rows = Object.entries(inputs).sort((a, b) => b[1].bytesInOutput - a[1].bytesInOutput);
const code = out.outputFiles[0].text;
for (const [file, { bytesInOutput }] of rows) console.log(`${String(bytesInOutput).padStart(6)} ${(100 * bytesInOutput / code.length).toFixed(1).padStart(5)} %  ${file}`);
console.log(`${String(code.length).padStart(6)} B minified, ${gzipSync(code, { level: 9 }).length} B min+gzip (before terser's property names)`);
