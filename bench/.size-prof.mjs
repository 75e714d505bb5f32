import * as esbuild from 'esbuild';
import { gzipSync } from 'node:zlib';
const entry = process.argv[2] ?? 'bench/.ab/size/entry-src.ts';
const r = await esbuild.build({ entryPoints: [entry], bundle: true, minify: true, format: 'esm', platform: 'browser', target: 'es2022', write: false, metafile: true, outfile: 'out.js' });
const out = r.outputFiles[0].text;
console.log('min', out.length, 'gzip', gzipSync(out, { level: 9 }).length);
const o = Object.values(r.metafile.outputs)[0];
const rows = Object.entries(o.inputs).sort((a, b) => b[1].bytesInOutput - a[1].bytesInOutput);
for (const [f, v] of rows) console.log(String(v.bytesInOutput).padStart(7), f);
