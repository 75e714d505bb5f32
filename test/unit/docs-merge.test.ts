import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, test } from 'vitest';

/*
 * A merge of two branches that both appended to a doc once left docs/benchmarks.md with a whole
 * section in twice (an older and a newer version) and no conflict marker to show it. Headings
 * repeat only by mistake in these docs, and a conflict marker never belongs in them.
 */
const root = resolve(__dirname, '../..');
const docs = ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

describe('docs after merges', () => {
  test('there are docs to check', () => expect(docs.length).toBeGreaterThan(5));
  test.each(docs)('%s: no heading twice, no conflict marker', (file) => {
    const lines = readFileSync(join(root, file), 'utf8').split('\n');
    let fenced = false;
    const headings: string[] = [];
    for (const line of lines) {
      if (line.startsWith('```')) fenced = !fenced;
      if (!fenced && /^#{1,4} /.test(line)) headings.push(line);
    }
    expect(headings.filter((h, i) => headings.indexOf(h) !== i)).toEqual([]);
    expect(lines.filter((l) => /^(<{7}|>{7}|={7})( |$)/.test(l))).toEqual([]);
  });
});
