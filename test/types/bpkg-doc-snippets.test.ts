/**
 * The code blocks a new user copies first compile as printed, against the published declarations
 * (dist/, so run after `npm run build`, as `npm test` does), under the strictest flags apps use.
 * Each block is taken from the Markdown; blocks that are fragments (`{…}` placeholders) are not.
 * A line whose comment says "compile error" must be one: it gets a `@ts-expect-error`.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, expect, test } from 'vitest';

const root = resolve(__dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'wirefall-snippets-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The ```ts / ```tsx blocks of a Markdown file. */
const blocks = (file: string) => [...readFileSync(join(root, file), 'utf8').matchAll(/```tsx?\n([\s\S]*?)```/g)].map((m) => m[1]!);
/** The block whose first line is `first`: a missing one fails (the docs changed: update this test). */
function block(file: string, first: string): string {
  const b = blocks(file).find((x) => x.startsWith(first));
  if (!b) throw new Error(`${file}: no code block starting with ${JSON.stringify(first)}`);
  return b.replace(/^(.*)\/\/ compile error/gm, '// @ts-expect-error: the docs say so\n$1// compile error');
}

/** Code inline in the prose, captured by `re`'s first group. */
function inline(file: string, re: RegExp): string {
  const code = re.exec(readFileSync(join(root, file), 'utf8'))?.[1];
  if (!code) throw new Error(`${file}: no inline code matching ${re}`);
  return code;
}

// Where each block goes in the user's project (imports between them say `./shared/api`, `./realtime`).
const project: Record<string, string> = {
  'shared/api.ts': block('README.md', '// shared/api.ts'),
  'client.ts': block('README.md', '// browser'),
  'server.ts': block('README.md', '// server (Node)'),
  'probe.ts': block('README.md', "import { probe } from 'wirefall';"),
  'realtime.ts': block('docs/react.md', '// realtime.ts'),
  'App.tsx': block('docs/react.md', '// App.tsx'),
  // README's advice to Node 18 and 20 users, inline in its prose (it needed a cast before 90197e9).
  'node20.ts': `import { connect } from 'wirefall';\ndeclare const url: string;\n${inline('README.md', /`(connect\(url, \{ WebSocket: [^`]+\))`/)};\n`,
};

test('README and docs/react.md snippets compile as printed (strict, exactOptionalPropertyTypes)', async () => {
  for (const f of ['dist/index.d.mts', 'dist/react.d.mts', 'dist/server.d.mts']) {
    if (!existsSync(join(root, f))) throw new Error(`${f} is missing: run \`npm run build\` first (npm test does)`);
  }
  // A project that installed wirefall (the repository itself, by its package.json exports) and React.
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(root, join(dir, 'node_modules/wirefall'), 'dir');
  for (const m of ['react', '@types']) symlinkSync(join(root, 'node_modules', m), join(dir, 'node_modules', m), 'dir');
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }');
  const compilerOptions = {
    target: 'ES2022', module: 'ESNext', moduleResolution: 'Bundler', jsx: 'react-jsx', lib: ['ES2022', 'DOM'], types: ['node'],
    strict: true, exactOptionalPropertyTypes: true, noUncheckedIndexedAccess: true, noEmit: true, skipLibCheck: false,
  };
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: Object.keys(project) }));
  for (const [f, code] of Object.entries(project)) {
    mkdirSync(dirname(join(dir, f)), { recursive: true });
    writeFileSync(join(dir, f), code);
  }
  const tsc = join(root, 'node_modules/typescript/bin/tsc');
  const out = await promisify(execFile)(process.execPath, [tsc, '-p', dir]).then(() => '', (e: { stdout: string }) => e.stdout);
  expect(out).toBe('');
}, 120_000);
