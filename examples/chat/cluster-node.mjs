// One node of `npm run start:cluster` (examples/chat/cluster.mjs forks it): the chat demo's server
// with the Redis store and Prometheus metrics (/demo/metrics), talking to the parent over IPC to
// show and change the cluster. Env: REDIS_URL, NODE_NAME, ORIGINS (the balancer's origins).
import { redisStore } from '../../dist/server-redis.mjs';
import { serverMetrics } from '../../dist/server-metrics.mjs';
import { startDemo } from './server.mjs';

const node = process.env.NODE_NAME ?? 'a';
let nodes = [];
const waiting = new Map();
let nextId = 0;
process.on('message', (m) => {
  if (m?.nodes) nodes = m.nodes;
  if (m?.id !== undefined) waiting.get(m.id)?.(m.nodes);
});
/** Asks the parent to stop, kill or start a node; resolves with the nodes' view (3 s at most). */
const act = (name, action) =>
  new Promise((resolve) => {
    const id = ++nextId;
    const t = setTimeout(() => (waiting.delete(id), resolve(nodes)), 3000);
    waiting.set(id, (v) => (clearTimeout(t), waiting.delete(id), resolve(v)));
    process.send({ id, act: { node: name, action } });
  });

const demo = await startDemo({
  port: 0,
  store: redisStore({ url: process.env.REDIS_URL, prefix: 'wfdemo' }),
  metrics: serverMetrics({ labels: { node } }),
  cluster: { node, origins: (process.env.ORIGINS ?? '').split(' ').filter(Boolean), nodes: () => nodes, act },
  log: (m, c) => console.log(`[node ${node}] ${m}`, c ?? ''),
});
// SIGTERM (a graceful stop, a deploy): the server leaves its sessions in Redis, clients resume elsewhere.
process.once('SIGTERM', () => void demo.close().then(() => process.exit(0)));
process.once('disconnect', () => process.exit(0)); // the parent is gone
process.send({ ready: demo.port });
