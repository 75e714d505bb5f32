// An ESM consumer of the published declarations (test/package/README.md says how it is checked).
// Each `@ts-expect-error` proves a type is really there: with `any` it would be an unused directive.
import { connect, WirefallError, CloseCode, type Client, type ClientOptions } from 'wirefall';
import { createServer, type Connection } from 'wirefall/server';
import type { Chat } from './api.js';

const server = createServer<Chat>({ allowedOrigins: ['https://example.com'] });
server.on('connection', (conn: Connection<Chat>) => {
  conn.subscribe('say', ({ text }) => server.broadcast('said', { from: conn.id, text }));
  // @ts-expect-error: 'shout' is not a client message
  conn.subscribe('shout', () => {});
});

// Metrics from their own entry fit `createServer`'s `metrics`; the handler is a Node request listener.
import { serverMetrics, type AttemptReport } from 'wirefall/server/metrics';
const metrics = serverMetrics({ labels: { node: 'a' } });
const observed = createServer<Chat>({ metrics });
observed.on('connection', (conn) => conn.on('attempts', (a: readonly AttemptReport[]) => a.map((x) => x.reason ?? x.rung)));
export const scrape: (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => void = metrics.handler;
// @ts-expect-error: a metrics object is not a store
createServer<Chat>({ store: metrics });

const options: ClientOptions = { transports: ['sse', 'longpoll'] };
// README's advice for Node 18 and 20 compiles as written: `ws` fits the WebSocket option, no cast.
import WS from 'ws';
connect<Chat>('http://127.0.0.1:1/wirefall', { WebSocket: WS });
const client: Client<Chat> = connect<Chat>('http://127.0.0.1:1/wirefall', options);
client.subscribe('said', (m) => m.from.toUpperCase());
// @ts-expect-error: 'shout' is not a client message
void client.send('shout', {});
client.on('error', (e) => (e instanceof WirefallError ? e.code : null));
export const normal: number = CloseCode.Normal;

// The Redis store from its own entry fits `createServer`'s `store`, and rooms are typed.
import { redisStore, type RedisStoreOptions } from 'wirefall/server/redis';
const storeOptions: RedisStoreOptions = { url: 'redis://127.0.0.1:1', prefix: 'app' };
const clustered = createServer<Chat>({ store: redisStore(storeOptions) });
clustered.on('connection', (conn) => {
  conn.join('lobby');
  clustered.to('lobby').broadcast('said', { from: conn.id, text: 'hi' }, { except: conn });
  // @ts-expect-error: 'say' is a client message
  clustered.to('lobby').broadcast('say', { text: 'x' });
});
