import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
let bundled: Promise<string> | undefined;

/**
 * test/support/cluster-node.ts bundled from the current sources (so a test never runs a stale
 * dist/). It lives under node_modules/.cache so that `ws` and `redis` resolve from the project.
 */
function bundle(): Promise<string> {
  return (bundled ??= (async () => {
    const dir = path.join(root, 'node_modules/.cache/wirefall-test');
    mkdirSync(dir, { recursive: true });
    const out = await build({ entryPoints: [path.join(root, 'test/support/cluster-node.ts')], bundle: true, platform: 'node', format: 'esm', target: 'node20', write: false, outdir: dir, external: ['ws', 'redis', 'prom-client'], logLevel: 'error' });
    const code = out.outputFiles[0]!.contents;
    // Named by content: test files running at once share it, and a source change makes a new one.
    const file = path.join(dir, `cluster-node-${createHash('sha256').update(code).digest('hex').slice(0, 16)}.mjs`);
    if (!existsSync(file)) {
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, code);
      renameSync(tmp, file);
    }
    return file;
  })());
}

/** A server node in a child process of its own. */
export interface NodeProcess {
  readonly name: string;
  readonly port: number;
  readonly url: string;
  /** What it wrote to stderr (its logger). */
  readonly log: string[];
  /** True while the process runs. */
  alive(): boolean;
  /** `kill -9`. */
  kill(): Promise<void>;
  /** SIGTERM: `server.close()`, then exit. Resolves with the exit code. */
  stop(): Promise<number | null>;
  close(): Promise<void>;
}

const exited = (p: ChildProcess) => new Promise<void>((r) => (p.exitCode !== null || p.signalCode !== null ? r() : p.once('exit', () => r())));

/** Starts a node (its own process) on a free loopback port, with the Redis store at `redisUrl`. */
export async function startNode(name: string, redisUrl: string, env: Record<string, string> = {}): Promise<NodeProcess> {
  const file = await bundle();
  const p = spawn(process.execPath, [file], { env: { ...process.env, REDIS_URL: redisUrl, NODE_NAME: name, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const log: string[] = [];
  p.stderr!.on('data', (b: Buffer) => log.push(...String(b).split('\n').filter(Boolean)));
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    const t = setTimeout(() => (p.kill('SIGKILL'), reject(new Error(`${name} did not start: ${log.join('\n')}`))), 15_000);
    p.once('exit', (code) => (clearTimeout(t), reject(new Error(`${name} exited with ${code}: ${log.join('\n')}`))));
    p.stdout!.on('data', (b: Buffer) => {
      out += String(b);
      const m = /READY (\d+)/.exec(out);
      if (m) {
        clearTimeout(t);
        p.removeAllListeners('exit');
        resolve(Number(m[1]));
      }
    });
  });
  const kill = async () => {
    if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    await exited(p);
  };
  return {
    name,
    port,
    url: `http://127.0.0.1:${port}/wirefall`,
    log,
    alive: () => p.exitCode === null && p.signalCode === null,
    kill,
    stop: async () => {
      p.kill('SIGTERM');
      const t = setTimeout(() => p.kill('SIGKILL'), 10_000);
      await exited(p);
      clearTimeout(t);
      return p.exitCode;
    },
    close: kill,
  };
}
