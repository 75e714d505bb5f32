/**
 * The production build (dist/prod/ and the minified UMD bundle) renames the package's internal
 * property names to one letter each (scripts/internal-names.mjs, rollup.config.mjs). That is safe only while none of them is public,
 * no other property takes one of the short names, and every chunk renamed them alike.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a build script, plain JavaScript
import { INTERNAL_NAMES, internalNames } from '../../scripts/internal-names.mjs';

const root = resolve(__dirname, '../..');
const names = INTERNAL_NAMES as string[];
const short = Object.values((internalNames() as { nameCache: { props: { props: Record<string, string> } } }).nameCache.props.props);
const files = (dir: string, ext: RegExp): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? files(join(dir, d.name), ext) : ext.test(d.name) ? [join(dir, d.name)] : []));
/** Code without its comments and string literals (what is left names things). */
const code = (text: string) => text.replace(/\/\*[\s\S]*?\*\/|\/\/[^\n]*|'(?:\\.|[^'\\\n])*'|"(?:\\.|[^"\\\n])*"|`(?:\\.|[^`\\])*`/g, '""');

describe('the internal property names the production build renames', () => {
  it('are declared by no public type', () => {
    const decls = files(join(root, 'dist'), /\.d\.ts$/).filter((f) => !f.includes('/prod/'));
    expect(decls.length).toBeGreaterThan(5);
    for (const f of decls) {
      const text = code(readFileSync(f, 'utf8'));
      for (const n of names) expect(text, `${n} in ${f}`).not.toMatch(new RegExp(`\\b${n}\\b`));
    }
  });

  it('get short names that no property of the source has', () => {
    expect(new Set(short).size).toBe(names.length);
    for (const f of files(join(root, 'src'), /\.tsx?$/)) {
      const text = code(readFileSync(f, 'utf8'));
      for (const s of short) expect(text, `${s} in ${f}`).not.toMatch(new RegExp(`(\\.|\\?\\.)${s}\\b|[{,]\\s*${s}\\??:`));
    }
  });

  it('are renamed in every file of dist/prod/ and in the minified UMD bundle, none left as it was', () => {
    for (const f of ['dist/prod/index.mjs', 'dist/prod/index.cjs', 'dist/wirefall.umd.min.js']) {
      if (!existsSync(join(root, f))) throw new Error(`${f} is missing: run \`npm run build\` first`);
    }
    for (const f of [...files(join(root, 'dist/prod'), /\.(mjs|cjs)$/), join(root, 'dist/wirefall.umd.min.js')]) {
      const text = code(readFileSync(f, 'utf8'));
      for (const n of names) expect(text, `${n} in ${f}`).not.toMatch(new RegExp(`\\b${n}\\b`));
    }
  });
});
