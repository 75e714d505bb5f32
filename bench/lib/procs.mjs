// Starting and stopping the bench's child processes. Every child is tracked, so the run can end
// them all (by pid, each one) whatever happens.
import { execFileSync, fork } from 'node:child_process';
import net from 'node:net';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { ipcCaller } from './common.mjs';

const here = (f) => fileURLToPath(new URL(`../${f}`, import.meta.url));
const children = new Set();

const cores = os.availableParallelism?.() ?? os.cpus().length;
let taskset = cores >= 2;

/**
 * Pins a process to one CPU with `taskset` (util-linux), so that server and client each have a
 * core of their own, as on two machines: unpinned, Linux often wakes the two ping-pong processes
 * on the same core. Returns false where that is not possible (the run then says so).
 */
function pin(pid, cpu) {
  if (!taskset || cpu == null) return false;
  try {
    execFileSync('taskset', ['-p', '-c', String(cpu % cores), String(pid)], { stdio: 'ignore' });
    return true;
  } catch {
    taskset = false;
    return false;
  }
}

/**
 * Raises a process's open-file limit (soft and hard) with `prlimit` (util-linux): the scale
 * section's balancer holds two descriptors per connection, past the usual 20,000. Needs the right
 * to (root, or CAP_SYS_RESOURCE); returns the limit in force afterwards.
 */
export function raiseFdLimit(pid, n) {
  try {
    execFileSync('prlimit', ['--pid', String(pid), `--nofile=${n}:${n}`], { stdio: 'ignore' });
  } catch {
    /* not allowed: the run says which limit it had */
  }
  try {
    return Number(execFileSync('prlimit', ['--pid', String(pid), '--nofile', '--raw', '--noheadings', '--output=SOFT'], { encoding: 'utf8' }).trim());
  } catch {
    return NaN;
  }
}

/** Whether processes get pinned in this run. */
export const pinning = () => taskset;

function start(file, args, execArgv, cpu, stderr = 'inherit') {
  const child = fork(here(file), args, { execArgv, stdio: ['ignore', 'inherit', stderr, 'ipc'] });
  pin(child.pid, cpu);
  children.add(child);
  child.on('error', () => {}); // a send racing the child's exit; the caller sees a rejection
  child.on('exit', () => children.delete(child));
  const call = ipcCaller(child);
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${file} did not start in 20 s`)), 20_000);
    child.once('exit', (code) => reject(new Error(`${file} exited early (${code})`)));
    child.on('message', function ready(m) {
      if (!m || !m.ready) return;
      clearTimeout(t);
      child.off('message', ready);
      resolve({ child, call, ...m });
    });
  });
}

/** A server process for `lib` (raw | wirefall | socketio), optionally behind the lab proxy. */
export async function startServer(lib, { lab = false, cpu = 0, redis, nofile, heartbeatMs } = {}) {
  const s = await start('server.mjs', [JSON.stringify({ lib, lab, redis, heartbeatMs })], ['--expose-gc'], cpu);
  if (nofile) s.nofile = raiseFdLimit(s.child.pid, nofile);
  return {
    ...s,
    async stop() {
      await Promise.race([s.call('exit').catch(() => {}), new Promise((r) => setTimeout(r, 2000))]);
      await kill(s.child);
    },
  };
}

/**
 * A process of its own for `file` (bench/balancer.mjs, bench/load.mjs), unpinned, with `cfg` as its
 * argument; `stderr`: a file descriptor its stderr goes to (default: this process's).
 */
export async function startHelper(file, cfg = {}, execArgv = [], { nofile, stderr } = {}) {
  const h = await start(file, [JSON.stringify(cfg)], execArgv, null, stderr);
  if (nofile) h.nofile = raiseFdLimit(h.child.pid, nofile);
  return {
    ...h,
    async stop() {
      await kill(h.child);
    },
  };
}

export async function startClient({ cpu = 1 } = {}) {
  const c = await start('client.mjs', [], [], cpu);
  return {
    ...c,
    async stop() {
      await kill(c.child);
    },
  };
}

function kill(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => child.kill('SIGKILL'), 2000);
    child.once('exit', () => (clearTimeout(t), resolve()));
    child.disconnect?.();
    child.kill('SIGTERM');
  });
}

export async function killAll() {
  await Promise.all([...children].map(kill));
}

/** A loopback port that nothing listens on (a WebSocket "refused" case, and a free port to bind). */
export async function closedPort() {
  const srv = net.createServer();
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  const port = srv.address().port;
  await new Promise((r) => srv.close(r));
  return port;
}
