// `npm run start:cluster`: the chat demo on three server nodes behind a round-robin balancer, with
// Debian's redis-server between them (docs/demo.md, "The cluster demo"):
//
//   tabs ──▶ balancer (this port; each new TCP connection to the next node, no stickiness)
//              ├─▶ node a ─┐
//              ├─▶ node b ─┼─▶ redis-server (a free loopback port, a temp dir; stopped on exit)
//              └─▶ node c ─┘
//
// Each node is examples/chat/server.mjs's `startDemo` in a process of its own
// (examples/chat/cluster-node.mjs) with the Redis store. The page shows which node holds each
// tab's session and which answered its last request, and can stop (gracefully: sessions move),
// kill (-9: sessions are lost and the clients say so) and restart each node. The launcher and the
// balancer are the ones the multi-node tests use (lab/redis.ts, lab/balancer.ts, in dist/lab.mjs).
import { fork } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startBalancer, startRedis } from '../../dist/lab.mjs';

const here = dirname(fileURLToPath(import.meta.url));

/**
 * Starts redis-server, the nodes and the balancer on `port` (0: a free one). Resolves with the
 * page's URL, the nodes' view, `act(name, action)` and `close()`, which stops everything it started.
 */
export async function startCluster({ port = 8125, host = '127.0.0.1', names = ['a', 'b', 'c'], log = console.log } = {}) {
  const redis = await startRedis();
  log(`[cluster] redis-server on ${redis.url}`);
  /** name → { name, port, up, proc } */
  const nodes = new Map(names.map((name) => [name, { name, port: 0, up: false, proc: undefined }]));
  let origins = [];
  const view = () => [...nodes.values()].map(({ name, port: p, up }) => ({ name, port: p, up }));
  // A node may be exiting while still `connected` (close() stops them all): with a callback, its
  // EPIPE goes there instead of an unhandled 'error' event (it failed the test suite under load).
  const ignore = () => {};
  const tellAll = () => {
    for (const n of nodes.values()) if (n.up && n.proc?.connected) n.proc.send({ nodes: view() }, ignore);
  };

  const start = (name) =>
    new Promise((ok, fail) => {
      const n = nodes.get(name);
      const proc = fork(join(here, 'cluster-node.mjs'), [], {
        env: { ...process.env, REDIS_URL: redis.url, NODE_NAME: name, ORIGINS: origins.join(' ') },
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      n.proc = proc;
      const timer = setTimeout(() => (proc.kill('SIGKILL'), fail(new Error(`node ${name} did not start`))), 15_000);
      proc.once('exit', () => {
        clearTimeout(timer);
        if (n.proc === proc) Object.assign(n, { up: false, proc: undefined });
        tellAll();
        fail(new Error(`node ${name} exited`));
      });
      proc.on('message', (m) => {
        if (m?.ready) {
          clearTimeout(timer);
          Object.assign(n, { port: m.ready, up: true });
          log(`[cluster] node ${name} on port ${m.ready}`);
          tellAll();
          ok();
        } else if (m?.act) {
          act(m.act.node, m.act.action).then((v) => proc.connected && proc.send({ id: m.id, nodes: v }, ignore));
        }
      });
    });

  const stopped = (proc) => new Promise((r) => (proc.exitCode !== null || proc.signalCode !== null ? r() : proc.once('exit', () => r())));
  /** stop (SIGTERM: the node leaves its sessions in Redis), kill (SIGKILL) or start a node; resolves with the nodes' view. */
  async function act(name, action) {
    const n = nodes.get(name);
    if (!n) return view();
    if (action === 'start' && !n.up && !n.proc) await start(name).catch((err) => log(`[cluster] ${err.message}`));
    else if ((action === 'stop' || action === 'kill') && n.proc) {
      const proc = n.proc;
      n.up = false; // the balancer stops sending it connections at once
      log(`[cluster] ${action === 'kill' ? 'killing (-9)' : 'stopping'} node ${name}`);
      // Answer first: the request that asked may be served by the node being stopped.
      setTimeout(() => proc.kill(action === 'kill' ? 'SIGKILL' : 'SIGTERM'), 50);
      const t = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      void stopped(proc).then(() => clearTimeout(t));
    }
    return view();
  }

  const balancer = await startBalancer(() => [...nodes.values()].filter((n) => n.up).map((n) => n.port), { port, host });
  origins = [...new Set([host, '127.0.0.1', 'localhost'])].map((h) => `http://${h}:${balancer.port}`);
  try {
    for (const name of names) await start(name);
  } catch (err) {
    await close();
    throw err;
  }

  async function close() {
    await Promise.all([...nodes.values()].map(async (n) => {
      const proc = n.proc;
      if (!proc) return;
      proc.kill('SIGKILL');
      await stopped(proc);
    }));
    await balancer.close();
    await redis.close();
  }
  return { url: `http://${host}:${balancer.port}/`, port: balancer.port, redis: redis.url, nodes: view, act, close };
}

// `node examples/chat/cluster.mjs` (what `npm run start:cluster` runs); importing starts nothing.
if (process.argv[1] && pathToFileURL(resolve(process.argv[1])).href === import.meta.url) {
  const port = Number(process.env.PORT ?? 8125);
  const host = process.env.HOST ?? '127.0.0.1';
  startCluster({ port, host }).then(
    (c) => {
      console.log(`wirefall cluster demo on ${c.url}  (three nodes behind a round-robin balancer, Redis at ${c.redis}; open it in two tabs, then stop a node from the page)`);
      let stopping = false;
      const stop = () => {
        if (stopping) return;
        stopping = true;
        c.close().then(() => process.exit(0));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    },
    (err) => {
      console.error(`could not start the cluster demo: ${err.message}`);
      process.exit(1);
    },
  );
}
