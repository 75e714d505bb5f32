/*
 * One wirefall server node as its own process, for the multi-node tests (test/support/cluster.ts
 * bundles and starts it). Env: REDIS_URL, NODE_NAME, OPEN_TIMEOUT_MS, STORE_GRACE_MS, LOG_LEVEL (debug); METRICS=1: attached to an
 * HTTP server of its own that also answers `/metrics` (wirefall/server/metrics). Prints
 * `READY <port>` once it listens; SIGTERM closes it gracefully.
 */
import { createServer as createHttpServer } from 'node:http';
import { createServer } from '../../src/server/index';
import { serverMetrics } from '../../src/server/metrics';
import { redisStore, type RedisStoreStats } from '../../src/server/redis';

export type ClusterApi = {
  client: { echo: { n: number; blob?: Uint8Array }; say: { n: number }; join: { room: string }; shout: { room: string; n: number }; stats: Record<string, never> };
  server: {
    echoed: { n: number; blob?: Uint8Array };
    said: { from: string; n: number };
    shouted: { from: string; room: string; n: number };
    joined: { room: string; node: string };
    stats: RedisStoreStats & { node: string; movedOut: number; sid: string };
  };
};

const node = process.env.NODE_NAME ?? 'node';
const metrics = process.env.METRICS ? serverMetrics({ labels: { node: process.env.NODE_NAME ?? 'node' } }) : undefined;
const http = metrics ? createHttpServer((req, res) => void (req.url === '/metrics' && metrics.handler(req, res))) : undefined;
const line = (m: string, c?: Record<string, unknown>) => process.stderr.write(`${new Date().toISOString().slice(11, 23)} ${node}: ${m}${c?.session ? ` ${String(c.session)}` : ''}\n`);
const store = redisStore({ url: process.env.REDIS_URL, prefix: 'wft', openTimeoutMs: Number(process.env.OPEN_TIMEOUT_MS ?? 5000) });
const server = createServer<ClusterApi, string>({
  store,
  // The client's name, so messages say who sent them.
  authenticate: ({ auth }) => (typeof auth === 'string' ? auth : 'anonymous'),
  // Info too: why a resume got a new session is an info line, and a failing test prints the logs.
  // Timestamped, so that a failure's lines from several nodes can be put in order.
  logger: { warn: (m, c) => line(m, c), info: (m, c) => line(m, c), debug: (m, c) => line(m, c) },
  logLevel: process.env.LOG_LEVEL === 'debug' ? 'debug' : 'info',
  rateLimit: { ip: false },
  ...(process.env.STORE_GRACE_MS && { storeGraceMs: Number(process.env.STORE_GRACE_MS) }),
  ...(http && { server: http, metrics }),
});
let movedOut = 0;
server.on('connection', (conn) => {
  conn.on('close', (reason) => void (reason === 'moved to another node' && movedOut++));
  // Bytes come back as they came (binary on WebSocket, base64 on the HTTP rungs: docs/protocol.md §1.3).
  conn.subscribe('echo', ({ n, blob }) => void conn.send('echoed', blob ? { n, blob } : { n }).catch(() => {}));
  conn.subscribe('say', ({ n }) => server.broadcast('said', { from: conn.user, n }));
  conn.subscribe('join', ({ room }) => {
    conn.join(room);
    void conn.send('joined', { room, node });
  });
  conn.subscribe('shout', ({ room, n }) => server.to(room).broadcast('shouted', { from: conn.user, room, n }, { except: conn }));
  if (process.env.WF_DEBUG) process.stderr.write(`${node}: DEBUG conn ${conn.id} ${conn.user}\n`);
  conn.subscribe('stats', () => void conn.send('stats', { ...store.stats, node, movedOut, sid: conn.id }));
});
process.on('SIGTERM', () =>
  void server.close().then(async () => {
    if (http) await new Promise((r) => (http.closeAllConnections(), http.close(r)));
    process.stderr.write(`${node}: closed; sessions moved out: ${movedOut}\n`);
    process.exit(0);
  }));
const port = http ? await new Promise<number>((r) => http.listen(0, '127.0.0.1', () => r((http.address() as { port: number }).port))) : await server.listen(0);
process.stdout.write(`READY ${port}\n`);
