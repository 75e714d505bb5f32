/*
 * A real `redis-server` (Debian's, on PATH) on a free loopback port: for the multi-node tests,
 * `npm run start:cluster` and the scale bench alike (one launcher, in the lab build).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';

/** A free loopback port: the OS picks one, we release it and hand it on. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** A real `redis-server` (Debian's, on PATH) on a loopback port, without persistence. */
export interface RedisProcess {
  readonly port: number;
  readonly url: string;
  /** Kills it with SIGKILL: every connection drops, every key is gone (no persistence). */
  kill(): Promise<void>;
  /** Starts it again on the same port (after `kill`). */
  restart(): Promise<void>;
  /** Freezes it (SIGSTOP): connections stay open, nothing is answered. A hung Redis. */
  pause(): void;
  /** Lets a paused one run again (SIGCONT). */
  resume(): void;
  /** Stops it for good (SIGKILL; it keeps nothing worth a graceful shutdown). */
  close(): Promise<void>;
}

const exited = (p: ChildProcess) =>
  new Promise<void>((r) => (p.exitCode !== null || p.signalCode !== null ? r() : p.once('exit', () => r())));

function launch(port: number, dir: string): Promise<ChildProcess> {
  // --save '' and --appendonly no: nothing on disk; --bind: loopback only; --dir: a temp dir of its
  // own, removed on close, should anything be written (a manual SAVE).
  const p = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: ['ignore', 'pipe', 'pipe'], cwd: dir });
  return new Promise((resolve, reject) => {
    let out = '';
    const t = setTimeout(() => (p.kill('SIGKILL'), reject(new Error(`redis-server did not start on ${port}: ${out}`))), 10_000);
    p.once('error', (err) => (clearTimeout(t), reject(new Error(`redis-server could not be started (is it installed? apt-get install redis-server): ${err.message}`))));
    p.once('exit', (code) => (clearTimeout(t), reject(new Error(`redis-server exited with ${code}: ${out}`))));
    const onData = (b: Buffer) => {
      out += String(b);
      if (out.includes('Ready to accept connections')) {
        clearTimeout(t);
        p.removeAllListeners('exit');
        p.stdout!.off('data', onData);
        p.stdout!.resume();
        p.stderr!.resume();
        resolve(p);
      }
    };
    p.stdout!.on('data', onData);
    p.stderr!.on('data', (b: Buffer) => (out += String(b)));
  });
}

/**
 * Starts redis-server on a free loopback port. A missing redis-server is a failure, never a skip
 * (.ci/run installs it).
 */
export async function startRedis(): Promise<RedisProcess> {
  let port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'wirefall-redis-'));
  let proc: ChildProcess | undefined;
  for (let tries = 0; !proc; tries++) {
    try {
      proc = await launch(port, dir);
    } catch (err) {
      // Another process took the port between freePort and the start: pick another.
      if (tries >= 3 || !String(err).includes('in use')) {
        rmSync(dir, { recursive: true, force: true });
        throw err;
      }
      port = await freePort();
    }
  }
  let current: ChildProcess | undefined = proc;
  const kill = async () => {
    const p = current;
    current = undefined;
    if (!p) return;
    p.kill('SIGKILL');
    await exited(p);
  };
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    kill,
    restart: async () => {
      if (!current) current = await launch(port, dir);
    },
    pause: () => void current?.kill('SIGSTOP'),
    resume: () => void current?.kill('SIGCONT'),
    close: async () => {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

