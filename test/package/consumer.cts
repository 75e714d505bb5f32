// A CommonJS consumer (`require` under node16/nodenext): resolves the `.d.cts` declarations.
import { connect, type Client } from 'wirefall';
import { createServer } from 'wirefall/server';
import type { Chat } from './api.js';

const server = createServer<Chat>();
server.on('connection', (conn) => {
  conn.subscribe('say', ({ text }) => text.length);
  // @ts-expect-error: 'shout' is not a client message
  conn.subscribe('shout', () => {});
});
export const client: Client<Chat> = connect<Chat>('http://127.0.0.1:1/wirefall');

import { redisStore } from 'wirefall/server/redis';
export const clustered = createServer<Chat>({ store: redisStore({ prefix: 'app' }) });

import { serverMetrics } from 'wirefall/server/metrics';
export const observed = createServer<Chat>({ metrics: serverMetrics() });
