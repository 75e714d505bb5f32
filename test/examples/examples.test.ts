/**
 * Examples that cannot rot: every example is type-checked and built here, as a user's project
 * would, against the built package (run after `npm run build`, as `npm test` does). The Node and
 * Deno/Bun clients also run, against a real server, in test/runtimes.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = resolve(__dirname, '../..');
const examples = join(root, 'examples');

/** Every file under examples/ whose name ends with one of `exts`. */
function files(exts: string[], dir = examples): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(exts, join(dir, e.name)) : exts.some((x) => e.name.endsWith(x)) ? [join(dir, e.name)] : [],
  );
}

beforeAll(() => {
  for (const f of ['dist/index.d.mts', 'dist/react.mjs']) {
    if (!existsSync(join(root, f))) throw new Error(`${f} is missing: run \`npm run build\` first (npm test does)`);
  }
});

describe('examples', () => {
  it('type-check against the published declarations (examples/tsconfig.json, no skipLibCheck)', async () => {
    const tsc = join(root, 'node_modules/typescript/bin/tsc');
    const { stdout } = await run(process.execPath, [tsc, '-p', 'examples/tsconfig.json', '--listFiles'], { cwd: root }).catch((e) => {
      throw new Error(`tsc -p examples/tsconfig.json failed:\n${e.stdout}${e.stderr}`);
    });
    const checked = stdout.split('\n').map((f) => relative(root, f));
    // Each TypeScript example was checked, and `wirefall` meant the built package, not src/.
    for (const f of files(['.ts', '.tsx'])) expect(checked).toContain(relative(root, f));
    expect(checked).toEqual(expect.arrayContaining(['dist/index.d.mts', 'dist/react.d.mts']));
    expect(checked.filter((f) => f.startsWith('src/'))).toEqual([]);
  }, 120_000);

  it('examples/react bundles for the browser with esbuild, through the package exports', async () => {
    const result = await build({
      entryPoints: [join(examples, 'react/main.tsx')],
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'browser',
      jsx: 'automatic',
      minify: true,
      metafile: true,
      define: { 'process.env.NODE_ENV': '"production"' },
      logLevel: 'silent',
    });
    expect(result.errors).toEqual([]);
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs).toEqual(expect.arrayContaining(['dist/react.mjs', 'examples/react/App.tsx']));
    expect(inputs.filter((f) => f.startsWith('src/') || f.includes('node:'))).toEqual([]);
    expect(result.outputFiles[0]!.text.length).toBeGreaterThan(10_000);
  }, 120_000);

  it.each(files(['.mjs', '.js']).map((f) => relative(root, f)))('%s parses (node --check)', async (file) => {
    const { stderr } = await run(process.execPath, ['--check', file], { cwd: root });
    expect(stderr).toBe('');
  });
});
