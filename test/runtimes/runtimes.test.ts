/**
 * Everywhere the README says wirefall runs: the built client (dist/index.mjs, through the package's
 * own `exports`) in Deno, in Bun and in Node, each against the Node reference server
 * (dist/server.mjs) on 127.0.0.1, on every rung, messages both ways. The clients are the examples
 * a user copies (examples/deno-bun/client.ts, examples/node-client/client.mjs), so the examples
 * cannot rot either.
 *
 * Deno and Bun come from the `deno` and `bun` devDependencies (their npm packages carry the
 * binaries): a missing binary fails this suite, it is never skipped.
 */
import { runCommand } from '../support/run-command';
import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = resolve(__dirname, '../..');
const bin = (name: string) => join(root, 'node_modules', '.bin', name);
const RUNGS = ['ws', 'sse', 'longpoll'] as const;

type Said = { from: string; text: string };
let server: { close(): Promise<void> };
let url = '';
const heard: Said[] = []; // every `say` the server received, with who sent it
let dir = '';

beforeAll(async () => {
  for (const f of ['dist/index.mjs', 'dist/server.mjs']) {
    if (!existsSync(join(root, f))) throw new Error(`${f} is missing: run \`npm run build\` first (npm test does)`);
  }
  for (const b of ['deno', 'bun']) {
    if (!existsSync(bin(b))) throw new Error(`${b} is missing from node_modules/.bin: it is a devDependency, run \`npm ci\``);
  }
  // The built server, as a user's Node process would load it.
  const { createServer } = await import(join(root, 'dist/server.mjs'));
  const chat = createServer({ logger: { warn: () => {} } });
  let next = 1;
  chat.on('connection', (conn: any) => {
    const name = `guest-${next++}`;
    void conn.send('hello', { name }).catch(() => {});
    conn.subscribe('say', ({ text }: { text: string }) => {
      heard.push({ from: name, text });
      chat.broadcast('said', { from: name, text });
    });
  });
  const port = await chat.listen(0, '127.0.0.1');
  server = chat;
  url = `http://127.0.0.1:${port}/wirefall`;

  // A project as a Deno or Bun user has it after `deno add npm:wirefall` / `bun add wirefall`:
  // a package.json and node_modules/wirefall (here a link to this repository and its dist/).
  dir = await mkdtemp(join(tmpdir(), 'wirefall-runtimes-'));
  await writeFile(join(dir, 'package.json'), JSON.stringify({ type: 'module', dependencies: { wirefall: '*' } }));
  await mkdir(join(dir, 'node_modules'));
  await symlink(root, join(dir, 'node_modules', 'wirefall'), 'dir');
  await copyFile(join(root, 'examples/deno-bun/client.ts'), join(dir, 'client.ts'));
});

afterAll(async () => {
  await server?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const run = runCommand;

/** What every client run must show: it opened on `rung`, heard the server, and its `say` made the round trip. */
function expectRoundTrip(result: { code: number | null; out: string }, rung: string, text: RegExp) {
  expect(result.out, result.out).toMatch(new RegExp(`^state: open on ${rung}$`, 'm'));
  expect(result.out).toMatch(/^hello: I am guest-\d+$/m); // server → client, unasked
  expect(result.out).toMatch(/^sent: acknowledged$/m); // client → server, acknowledged
  const echo = result.out.match(/^said: (guest-\d+): (.+)$/m); // client → server → client
  expect(echo?.[2]).toMatch(text);
  expect(heard).toContainEqual({ from: echo![1], text: echo![2] }); // the server really got it
  expect(result.code, result.out).toBe(0);
}

describe.each([
  { runtime: 'Deno', cmd: () => bin('deno'), args: ['run', '--allow-net', 'client.ts'], env: () => ({ DENO_DIR: join(dir, '.deno'), DENO_NO_UPDATE_CHECK: '1' }) },
  { runtime: 'Bun', cmd: () => bin('bun'), args: ['client.ts'], env: () => ({}) },
])('$runtime runs the wirefall client (examples/deno-bun/client.ts)', ({ runtime, cmd, args, env }) => {
  it.each(RUNGS)('on %s, messages both ways, against the Node server', async (rung) => {
    const result = await run(cmd(), [...args, url, rung], dir, env());
    expectRoundTrip(result, rung, new RegExp(`^hi from ${runtime} \\d+\\.\\d+\\.\\d+`));
  }, 60_000);
});

describe('Node runs the wirefall client (examples/node-client/client.mjs)', () => {
  const example = join(root, 'examples/node-client/client.mjs');

  it.each(RUNGS)('on %s, messages both ways', async (rung) => {
    const result = await run(process.execPath, [example, url, rung], root);
    expectRoundTrip(result, rung, /^hi from Node v\d+/);
  }, 60_000);

  // Node ≥ 22 has a global WebSocket: wirefall takes it with no option. Node 20.10+ has the same
  // global (undici's) behind --experimental-websocket, which stands in for 22 here.
  it('with a global WebSocket (Node ≥ 22, or 20 with --experimental-websocket), needs no WebSocket option', async () => {
    const flags = 'WebSocket' in globalThis ? [] : ['--experimental-websocket'];
    const result = await run(process.execPath, [...flags, example, url, 'ws'], root);
    expect(result.out).toMatch(/^websocket: global$/m);
    expectRoundTrip(result, 'ws', /^hi from Node v\d+/);
  }, 60_000);

  it('without one (Node 18 and 20), takes the ws package, as the README says', async () => {
    if ('WebSocket' in globalThis) {
      // This Node has the global: the ws-package path cannot be taken here; the test above covers it.
      expect(Number(process.versions.node.split('.')[0])).toBeGreaterThanOrEqual(22);
      return;
    }
    const result = await run(process.execPath, [example, url, 'ws'], root);
    expect(result.out).toMatch(/^websocket: the ws package$/m);
    expectRoundTrip(result, 'ws', /^hi from Node v\d+/);
  }, 60_000);
});
