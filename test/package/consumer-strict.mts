// The published declarations under the strictest flags apps turn on (tsconfig.strictest.json:
// exactOptionalPropertyTypes, noUncheckedIndexedAccess, verbatimModuleSyntax). Options are often
// built from values that may be undefined ("use the default"), which the client treats as absent;
// under exactOptionalPropertyTypes a plain `?:` option refused them.
import WS from 'ws';
import { connect, probe, type ClientOptions, type RequestOptions } from 'wirefall';
import type { Chat } from './api.js';

declare const env: { WS_IMPL?: typeof WS; TOKEN?: string; STAGGER?: number; RUNGS?: ClientOptions['transports'] };
const options: ClientOptions = {
  WebSocket: env.WS_IMPL,
  fetch: undefined,
  auth: env.TOKEN,
  stagger: env.STAGGER,
  transports: env.RUNGS,
  reconnect: { base: env.STAGGER, max: undefined },
  outbox: { maxMessages: env.STAGGER },
  upgradeProbe: { first: env.STAGGER },
  logger: undefined,
  share: undefined,
};
const client = connect<Chat>('http://127.0.0.1:1/wirefall', options);
void probe('http://127.0.0.1:1/wirefall', { transports: ['sse', 'longpoll'] as const, openTimeout: env.STAGGER });
const call: RequestOptions = { timeout: env.STAGGER };
void call;
client.close();

// The React provider and hooks, the same way.
import { createElement } from 'react';
import { WirefallProvider, useDiagnostics } from 'wirefall/react';
declare const maybeOptions: ClientOptions | undefined;
export const provider = createElement(WirefallProvider, { url: 'http://127.0.0.1:1/wirefall', options: maybeOptions });
export const useBadge = () => useDiagnostics({ intervalMs: env.STAGGER });

// The server's options, the same way: a value from the environment may be undefined ("use the default").
import { createServer, type ServerOptions } from 'wirefall/server';
declare const conf: { PORT_PATH?: string; HEARTBEAT?: number; ORIGINS?: string[]; LIMIT?: number };
const serverOptions: ServerOptions<{ id: string }> = {
  path: conf.PORT_PATH,
  heartbeatMs: conf.HEARTBEAT,
  allowedOrigins: conf.ORIGINS,
  authenticate: undefined,
  replay: { maxMessages: conf.LIMIT, maxBytes: undefined },
  rateLimit: { session: undefined, ip: false },
  store: undefined,
  logger: undefined,
};
export const server = createServer(serverOptions);
