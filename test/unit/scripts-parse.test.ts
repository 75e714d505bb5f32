import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';

/*
 * The benchmarks and scripts are run by hand or by `npm run bench`, not by the suite: a syntax
 * error there (an apostrophe inside a quoted string once broke bench/scale.mjs) would only show
 * on the next bench run. Each must at least parse (`node --check`).
 */
const root = resolve(__dirname, '../..');
const dirs = ['bench', 'bench/lib', 'scripts'];
const files = dirs.flatMap((d) => readdirSync(join(root, d)).filter((f) => f.endsWith('.mjs')).map((f) => `${d}/${f}`));

describe('bench and scripts parse', () => {
  test('there are files to check', () => expect(files.length).toBeGreaterThan(10));
  test.each(files)('%s', (file) => {
    expect(() => execFileSync(process.execPath, ['--check', join(root, file)], { stdio: 'pipe' })).not.toThrow();
  });
});
