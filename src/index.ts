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
import type { AnyApi, ApiCheck } from './protocol/api';
import { makeClient, type ApiShape, type Client } from './core/client';
import type { ClientOptions } from './core/options';
import { runProbe, type ProbeReport } from './core/probe';
import { resolveSetup } from './setup';
import type { ClientHook } from './core/session-tap';

// A type only: the object connect() returns is not an instance (src/core/client.ts), and a class
// value would let `new Client()` compile (its constructor is internal) and then fail.
export type { Client } from './core/client';
export type { ApiShape, ConnectionState, ClientEvents, UndeliveredMessage, ClientRole } from './core/client';
export type { ShareFactory, ShareContext } from './core/session-tap';
export type { ClientOptions } from './core/options';
export type { ProbeReport, ProbeResult } from './core/probe';
export { WirefallError } from './protocol/errors';
export type { ErrorCode, ErrorDetails } from './protocol/errors';
export type { AttemptRecord } from './core/attempt';
export type { Rung, RungName } from './core/rungs';
export type { Platform, Clock, KeyValueStorage, WebSocketLike, WebSocketConstructor, WakeReason, LocksLike, ChannelLike, LeaveReason } from './platform';
export type { Transport, TransportContext, TransportEvents, TransportFactory, TransportFailure } from './transports/transport';
export { CloseCode } from './protocol/close-codes';
export { PROTOCOL_VERSION } from './protocol/frames';
export type { Wire, Sendable } from './protocol/data';
export type { RequestOptions } from './core/request';
export { logClient, type ClientLogger, type ClientLogLevel } from './core/logger';
export { describeAttempt, describeReason, RUNG_LABEL } from './core/describe';
export type { ApiCheck, SendableApi } from './protocol/api';

/**
 * Connects to a wirefall server, trying `wss` → `ws` → SSE → long-polling until one verifies.
 *
 * @param url - the server's endpoint (`http(s):` or `ws(s):`); the ladder is derived from it.
 * @example
 * const client = connect<Chat>('http://127.0.0.1:8124/wirefall', { WebSocket: WS }); // Node: pass `ws`
 * client.on('state', (state, rung) => console.log(state, rung));
 */
export function connect<Api extends ApiShape & ApiCheck<Api> = AnyApi>(
  url: string,
  options: ClientOptions = {},
): Client<Api> {
  const setup = resolveSetup(url, options);
  // Sharing (wirefall/share) decides whether this context makes the connection or relays to another's.
  const make = (hook?: (internals: never) => void) => makeClient({ ...setup, hook: hook as ClientHook | undefined }, options);
  return (options.share ? options.share({ url, options, platform: setup.platform, make }) : make()) as unknown as Client<Api>;
}

/**
 * Tries every rung of the ladder on its own, at the same time, and reports which work, with
 * reasons and timings: the connectivity check support teams otherwise send users to third-party
 * sites for. Each successful rung's session is closed at once.
 * @example
 * const report = await probe('https://example.com/wirefall');
 * // { best: 'sse', rungs: [{ rung: 'wss', ok: false, reason: 'WF_NO_DATA', duration: 5003 }, ...] }
 */
export function probe(url: string, options: ClientOptions = {}): Promise<ProbeReport> {
  return runProbe(resolveSetup(url, options), options);
}
