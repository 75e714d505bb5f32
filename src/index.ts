/**
 * wirefall: a realtime client that keeps talking when the network is hostile.
 *
 * @example
 * import { connect } from 'wirefall';
 * type Chat = { client: { say: { text: string } }; server: { said: { from: string; text: string } } };
 * const client = connect<Chat>('https://example.com/realtime');
 * client.subscribe('said', (m) => console.log(m.from, m.text));
 * await client.send('say', { text: 'hello' });
 */
import { Client, type ApiShape } from './core/client';
import type { ClientOptions } from './core/options';
import { deriveRungs, type RungName } from './core/rungs';
import { platformFrom } from './platform';
import type { TransportFactory } from './transports/transport';
import { webSocketTransport } from './transports/websocket';

export { Client } from './core/client';
export type { ApiShape, ConnectionState, ClientEvents, UndeliveredMessage } from './core/client';
export type { ClientOptions } from './core/options';
export { WirefallError } from './core/errors';
export type { ErrorCode, ErrorDetails } from './core/errors';
export type { AttemptRecord } from './core/attempt';
export type { Rung, RungName } from './core/rungs';
export type { Platform, Clock, KeyValueStorage, WebSocketLike, WebSocketConstructor, WakeReason } from './platform';
export type { Transport, TransportContext, TransportEvents, TransportFactory, TransportFailure } from './transports/transport';
export { CloseCode } from './protocol/close-codes';
export { PROTOCOL_VERSION } from './protocol/frames';

const defaultTransports: Partial<Record<RungName, TransportFactory>> = {
  wss: webSocketTransport,
  ws: webSocketTransport,
};

/**
 * Connects to a wirefall server, trying `wss` → `ws` → SSE → long-polling until one verifies.
 *
 * @param url - the server's endpoint (`http(s):` or `ws(s):`); the ladder is derived from it.
 * @example
 * const client = connect<Chat>('http://127.0.0.1:8124/wirefall', { WebSocket: WS }); // Node: pass `ws`
 * client.on('state', (state, rung) => console.log(state, rung));
 */
export function connect<Api extends ApiShape = { client: Record<string, unknown>; server: Record<string, unknown> }>(
  url: string,
  options: ClientOptions = {},
): Client<Api> {
  const platform = platformFrom({
    ...options.platform,
    ...(options.WebSocket ? { WebSocket: options.WebSocket } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  const factories = { ...defaultTransports, ...options.transportFactories };
  const rungs =
    options.rungs ??
    deriveRungs(url, {
      securePort: options.securePort,
      transports: options.transports ?? (Object.keys(factories) as RungName[]),
      pageProtocol: platform.pageProtocol,
    });
  return new Client<Api>({ rungs, factories, platform }, options);
}
