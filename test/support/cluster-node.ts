/*
 * One wirefall server node as its own process, for the multi-node tests (test/support/cluster.ts
 * bundles and starts it). Env: REDIS_URL, NODE_NAME, OPEN_TIMEOUT_MS. Prints `READY <port>` once
 * it listens; SIGTERM closes it gracefully.
 */
import { createServer } from '../../src/server/index';
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
const store = redisStore({ url: process.env.REDIS_URL, prefix: 'wft', openTimeoutMs: Number(process.env.OPEN_TIMEOUT_MS ?? 5000) });
const server = createServer<ClusterApi, string>({
  store,
  // The client's name, so messages say who sent them.
  authenticate: ({ auth }) => (typeof auth === 'string' ? auth : 'anonymous'),
  logger: { warn: (m) => process.stderr.write(`${node}: ${m}\n`) },
  rateLimit: { ip: false },
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
  void server.close().then(() => {
    process.stderr.write(`${node}: closed; sessions moved out: ${movedOut}\n`);
    process.exit(0);
  }));
const port = await server.listen(0);
process.stdout.write(`READY ${port}\n`);
