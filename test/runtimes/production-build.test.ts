/**
 * The production build (dist/prod/, src/dev.ts): what a bundler's production build resolves
 * through the package's `production` export condition. It must work like the default build, with
 * the same codes, and leave out only the explanatory text. Node resolves the condition for real
 * here (`node --conditions=production`), through a project that has wirefall in node_modules.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCommand } from '../support/run-command';

const root = resolve(__dirname, '../..');
let dir = '';

beforeAll(async () => {
  for (const f of ['dist/prod/index.mjs', 'dist/prod/server.mjs', 'dist/index.mjs']) {
    if (!existsSync(join(root, f))) throw new Error(`${f} is missing: run \`npm run build\` first (npm test does)`);
  }
  dir = await mkdtemp(join(tmpdir(), 'wirefall-prod-'));
  await writeFile(join(dir, 'package.json'), JSON.stringify({ type: 'module', dependencies: { wirefall: '*' } }));
  await mkdir(join(dir, 'node_modules'));
  await symlink(root, join(dir, 'node_modules', 'wirefall'), 'dir');
  // Every entry, and `require` too: under one condition all of them must come from one build.
  await writeFile(
    join(dir, 'where.mjs'),
    `import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
for (const e of ['wirefall', 'wirefall/server', 'wirefall/react', 'wirefall/share']) console.log(import.meta.resolve(e), require.resolve(e));`,
  );
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the production export condition', () => {
  it('resolves every entry, import and require, to dist/prod/ under `production`, and to dist/ without it', async () => {
    const prod = await runCommand(process.execPath, ['--conditions=production', 'where.mjs'], dir);
    expect(prod.code, prod.out).toBe(0);
    const prodPaths = prod.out.trim().split(/\s+/);
    expect(prodPaths).toHaveLength(8);
    for (const p of prodPaths) expect(p).toMatch(/\/dist\/prod\/[a-z-]+\.(mjs|cjs)$/);

    const plain = await runCommand(process.execPath, ['where.mjs'], dir);
    expect(plain.code, plain.out).toBe(0);
    const plainPaths = plain.out.trim().split(/\s+/);
    expect(plainPaths).toHaveLength(8);
    for (const p of plainPaths) expect(p).toMatch(/\/dist\/[a-z-]+\.(mjs|cjs)$/);
  });

  it("keeps the React entry's 'use client' directive in both builds (dist/prod/ is minified)", async () => {
    for (const f of ['dist/react.mjs', 'dist/react.cjs', 'dist/prod/react.mjs', 'dist/prod/react.cjs']) {
      expect((await readFile(join(root, f), 'utf8')).slice(0, 13), f).toMatch(/^['"]use client['"];/);
    }
  });
});

describe.each([
  { build: 'production', dist: 'dist/prod' },
  { build: 'default', dist: 'dist' },
])('the $build build', ({ build, dist }) => {
  it('delivers both ways on every rung, and fails with the same codes', async () => {
    const client = await import(pathToFileURL(join(root, dist, 'index.mjs')).href);
    const server = await import(pathToFileURL(join(root, dist, 'server.mjs')).href);
    const hub = server.createServer({ logger: { warn: () => {} } });
    hub.on('connection', (conn: any) => conn.subscribe('say', (d: unknown) => void conn.send('said', d).catch(() => {})));
    const port = await hub.listen(0, '127.0.0.1');
    try {
      for (const rung of ['ws', 'sse', 'longpoll']) {
        const c = client.connect(`http://127.0.0.1:${port}/wirefall`, { WebSocket, transports: [rung], rememberRungMs: 0 });
        try {
          const heard = new Promise((done) => c.subscribe('said', done));
          await c.send('say', { rung });
          expect(await heard).toEqual({ rung });
          expect(c.rung).toBe(rung);
          // Data that cannot make the trip: the same code in both builds; the text only in the default one.
          const err = await c.send('say', { when: new Date() }).then(() => null, (e: Error) => e);
          expect(err).toBeInstanceOf(client.WirefallError);
          expect(err.code).toBe('WF_INVALID');
          if (build === 'production') expect(err.message).toBe('WF_INVALID');
          else expect(err.message).toMatch(/when.*Date/);
        } finally {
          c.close();
        }
      }
    } finally {
      await hub.close();
    }
  });
});
