// The scale section's round-robin balancer (lab/balancer.ts, as in the tests and the cluster demo)
// in a process of its own, so that its CPU and file descriptors are not the orchestrator's.
// Config: { ports: [..] }. IPC: `ports({ ports })` replaces the nodes, `fds()` counts its sockets.
import { readdirSync } from 'node:fs';
import { startBalancer } from '../dist/lab.mjs';
import { serveIpc, toParent } from './lib/common.mjs';

const cfg = JSON.parse(process.argv[2] ?? '{}');
let ports = cfg.ports ?? [];
const balancer = await startBalancer(() => ports);
serveIpc({
  ports: ({ ports: p }) => ((ports = p), true),
  fds: () => readdirSync('/proc/self/fd').length,
  exit: async () => {
    await balancer.close();
    setImmediate(() => process.exit(0));
    return true;
  },
});
toParent({ ready: true, port: balancer.port });
