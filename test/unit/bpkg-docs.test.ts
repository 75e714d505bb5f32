import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';

// What npm users read first must not rot against the code: every option of `connect` is in
// README's options table, and no table is cut in two by a blank line (the rows after it render
// as plain text with pipes: README's `rememberRungMs` and `upgradeProbe` rows did).

const root = resolve(__dirname, '../..');
const read = (f: string) => readFileSync(join(root, f), 'utf8');
const markdown = ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

describe('README and docs', () => {
  test('no table is split by a blank line', () => {
    const split: string[] = [];
    for (const f of markdown) {
      const lines = read(f).split('\n');
      lines.forEach((line, i) => {
        if (line === '' && lines[i - 1]?.startsWith('|') && lines[i + 1]?.startsWith('|')) split.push(`${f}:${i + 1}`);
      });
    }
    expect(split).toEqual([]);
  });

  test("every connect() option has a row in README's options table", () => {
    const src = read('src/core/options.ts');
    const body = src.slice(src.indexOf('export interface ClientOptions {'), src.indexOf('\n}\n', src.indexOf('export interface ClientOptions {')));
    const options = [...body.matchAll(/^ {2}(\w+)\?:/gm)].map((m) => m[1]!);
    expect(options.length).toBeGreaterThan(15);
    const readme = read('README.md');
    const table = readme.slice(readme.indexOf('## Client options'), readme.indexOf('Client surface:'));
    const rows = new Set([...table.matchAll(/^\| ([^|]+) \|/gm)].flatMap((m) => [...m[1]!.matchAll(/`(\w+)`/g)].map((n) => n[1]!)));
    expect(options.filter((o) => !rows.has(o))).toEqual([]);
  });
});
