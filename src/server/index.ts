/**
 * wirefall's Node reference server: every rung under one path, one session model.
 *
 * @example
 * import { createServer } from 'wirefall/server';
 * const server = createServer<Chat>({ allowedOrigins: ['https://app.example.com'] });
 * server.on('connection', (conn) => {
 *   conn.subscribe('say', ({ text }) => server.broadcast('said', { from: conn.id, text }));
 * });
 * await server.listen(8124);
 */
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { AnyApi, ApiCheck, ApiShape } from '../protocol/api';
import { useBase64Encoder } from '../protocol/base64';
import { emitter, type Emitter } from '../util/emitter';
import { CloseCode } from '../protocol/close-codes';
import { Hub } from './hub';
import { resolveServerOptions, type ResolvedServerOptions, type ServerOptions } from './options';
import { REFUSAL_HEADER } from './policy';
import { HttpRung } from './rung-http';
import { AddressLimiter } from './limits';
import { WebSocketRung } from './rung-websocket';
import { upgradeHandler } from './upgrade';
import type { Connection } from './session';
import { checkRoom, Rooms } from './rooms';
import { memoryStore } from './store/memory-store';
import type { SessionStore } from './store/types';
import { fanOutDelivery, fanOutEntry } from './fan-out';
import type { ServerObserver } from './observer';
import { WIRE_ERROR_CODES, type WireErrorCode } from '../protocol/wire-errors';

export { Connection } from './session';
export type { ConnectionEvents } from './session';
export type { ServerOptions, AuthContext, Refusal, Logger, Rate } from './options';
export type { LogLevel } from './log';
export type { ServerObserver, ObservedSession } from './observer';
export type { AttemptReport } from './attempt-report';
export type { SessionStore, FanOutEntry, StoreNode, SessionMover, SessionState } from './store/types';
export { memoryStore } from './store/memory-store';
export type { Link } from './link';
export type { Wire, Sendable } from '../protocol/data';
export type { ApiCheck, SendableApi } from '../protocol/api';

export interface ServerEvents<Api extends ApiShape, User> {
  /** A new session started (not a resume: a resumed session is the same `Connection`). */
  connection: (conn: Connection<Api, User>) => void;
}

/** What `server.to(room)` returns: the room's side of `broadcast`. */
export interface RoomTarget<Api extends ApiShape, User> {
  /** Sends a message to every member of the room, on every node of the store; encoded once. */
  broadcast<K extends keyof Api['server'] & string>(type: K, data: Api['server'][K], options?: { except?: Connection<Api, User> }): void;
}

/** A wirefall endpoint on a Node HTTP(S) server. */
export class WirefallServer<Api extends ApiShape = AnyApi, User = unknown> {
  /** The HTTP(S) server the endpoint lives on. */
  readonly httpServer: HttpServer | HttpsServer;
  #opts: ResolvedServerOptions;
  #allowed: ServerOptions['allowedOrigins'];
  #hub: Hub<Api, User>;
  #ws: WebSocketRung<Api, User>;
  #http: HttpRung<Api, User>;
  #onRequest: (req: IncomingMessage, res: ServerResponse) => void;
  #events: Emitter<ServerEvents<Api, User>>;
  #ownsServer: boolean;
  #onUpgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
  /** Connections opened per remote address (`rateLimit.ip`), on every rung. */
  #opens: AddressLimiter;
  #rooms: Rooms<Api, User>;
  #store: SessionStore;
  /** Set by `close()`: new connections are refused (503) while sessions are handed to the store. */
  #closing = false;
  /** Settles when the store is open; `listen` waits for it. */
  #storeOpen: Promise<void>;
  /** Stops the metrics reading this server's sessions (`close`): a closed server is not kept by them. */
  #unwatch: (() => void) | void;

  constructor(options: ServerOptions<User> = {}) {
    this.#opts = resolveServerOptions(options);
    this.#allowed = options.allowedOrigins;
    if (!this.#allowed) {
      this.#opts.logger.warn('allowedOrigins is not set: any page may open a WebSocket here, and cross-origin pages cannot use the HTTP rungs (no CORS); see docs/security.md');
    }
    // An app's listener that throws (or whose promise rejects) is reported; every session goes on.
    this.#events = emitter((err, event) => this.#opts.logger.warn(`a ${String(event)} listener failed: ${String(err)}`));
    const store = (this.#store = options.store ?? memoryStore());
    this.#rooms = new Rooms((room, present) => store.watch(room, present));
    this.#hub = new Hub<Api, User>(this.#opts, options, (c) => (this.#opts.logger.info(`session started on ${c.rung}`, { session: c.id }), this.#events.emit('connection', c)), this.#rooms, store.sessions);
    // Gauges (sessions by rung, replay sizes) are read from the sessions when scraped, not kept.
    this.#unwatch = this.#opts.metrics?.watch(() => this.#hub.claimed());
    this.#storeOpen = store.open({
      ...fanOutDelivery(this.#hub, this.#rooms, store, this.#opts.logger),
      logger: this.#opts.logger,
      surrender: (id, hash, identity, leaving) => this.#hub.surrender(id, hash, identity, leaving),
      lose: (id, why) => this.#hub.sessions.get(id)?.close(CloseCode.GoingAway, `missed fan-out: ${why}`),
      rewrite: () => this.#hub.recommitAll(),
    });
    // Attached to an app's server nobody awaits `listen`: a store that can never open is logged.
    this.#storeOpen.catch((err: unknown) => this.#opts.logger.warn(`the ${store.name} store failed to open: ${String(err)}`));
    this.#ws = new WebSocketRung(this.#hub, this.#opts);
    this.#opens = new AddressLimiter(this.#opts.rateLimit.ip);
    this.#ownsServer = !options.server;
    // Node lets a request drip its headers for 60 s and its body for 300 s (issue 16, item 11).
    // Ours are bounded, and checked every second rather than every 30 s. On the app's own server
    // these are the app's to set; the POST body deadline (rung-http) holds there too.
    this.httpServer = options.server ?? createHttpServer({ connectionsCheckingInterval: 1000 });
    if (this.#ownsServer) {
      this.httpServer.headersTimeout = this.#opts.headersTimeoutMs;
      this.httpServer.requestTimeout = this.#opts.headersTimeoutMs + this.#opts.bodyTimeoutMs;
    }
    this.#onUpgrade = upgradeHandler({
      server: this.httpServer, opts: this.#opts, allowed: this.#allowed, opens: this.#opens, rung: this.#ws, secure: 'setSecureContext' in this.httpServer,
      matches: (req) => this.#matches(req), closing: () => this.#closing,
    });
    this.httpServer.on('upgrade', this.#onUpgrade);
    this.#http = new HttpRung(this.#hub, this.#opts, this.#allowed, this.#opens, store.routes);
    this.#onRequest = (req, res) => {
      if (this.#closing && this.#matches(req)) res.writeHead(503, { 'Retry-After': '1', Connection: 'close' }).end();
      else if (this.#matches(req)) {
        if (this.#opts.metrics) countRefusal(res, this.#opts.metrics);
        this.#http.handle(req, res);
      }
      // Other paths belong to the app's own listeners, unless the server is ours alone.
      else if (this.#ownsServer) res.writeHead(404).end();
    };
    this.httpServer.on('request', this.#onRequest);
    // On the app's own server nobody calls `listen`: announce once it listens and the store is open
    // (without it, other nodes could not forward this node's HTTP-rung requests here).
    if (!this.#ownsServer && store.routes) {
      const announce = () => void this.#storeOpen.then(() => this.#announce(), () => {});
      if (this.httpServer.listening) announce();
      else this.httpServer.once('listening', announce);
    }
  }

  /** Listens to `connection`; returns the unsubscribe function. */
  on<E extends keyof ServerEvents<Api, User>>(event: E, listener: ServerEvents<Api, User>[E]): () => void {
    return this.#events.on(event, listener);
  }

  /** Every live session that `connection` announced (connected now, or away within its TTL). */
  get connections(): Iterable<Connection<Api, User>> {
    return this.#hub.claimed();
  }

  /**
   * Sends a message to every session; the payload is encoded once. Throws `WF_INVALID` (naming
   * the part) when the data holds something that cannot make the trip: a `Date`, a `Map`, …
   */
  broadcast<K extends keyof Api['server'] & string>(type: K, data: Api['server'][K], options: { except?: Connection<Api, User> } = {}): void {
    this.#store.publish(fanOutEntry(type, data, undefined, options.except?.id));
  }

  /**
   * The members of `room` (see `conn.join`), on every node of the store. Throws `WF_INVALID` for
   * a name that is not 1–256 characters.
   * @example
   * server.to('lobby').broadcast('said', { from: conn.id, text }, { except: conn });
   */
  to(room: string): RoomTarget<Api, User> {
    checkRoom(room);
    return {
      broadcast: (type, data, options = {}) => this.#store.publish(fanOutEntry(type, data, room, options.except?.id)),
    };
  }

  /** Starts listening (only for a server this endpoint created). Resolves with the port. */
  async listen(port = 0, host = '127.0.0.1'): Promise<number> {
    // Clients must not arrive before broadcasts can reach them from other nodes.
    await this.#storeOpen;
    const bound = await new Promise<number>((resolve, reject) => {
      this.httpServer.once('error', reject);
      this.httpServer.listen(port, host, () => resolve((this.httpServer.address() as AddressInfo).port));
    });
    await this.#announce();
    return bound;
  }

  /** Tells the other nodes where to forward HTTP-rung requests of this node's sessions. */
  async #announce(): Promise<void> {
    const address = this.httpServer.address();
    if (!this.#store.routes || !address || typeof address === 'string') return;
    const host = address.address;
    const reachable = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
    await this.#store.routes.announce(`${'setSecureContext' in this.httpServer ? 'https' : 'http'}://${reachable}:${address.port}`).catch((err: unknown) => this.#opts.logger.warn(`announcing this node failed: ${String(err)}`));
  }

  /**
   * Stops: clients are told to go away (close code 1001: resume, possibly elsewhere). With a store
   * that moves sessions (Redis), their sessions are left in the store first, for the nodes their
   * clients resume on; otherwise they end. Closes the HTTP server if it created it, and the store.
   */
  async close(): Promise<void> {
    this.#closing = true;
    this.#hub.closing = true;
    await this.#park();
    this.#hub.closeAll(CloseCode.GoingAway, 'server shutting down');
    this.#ws.close();
    this.#http.close();
    this.httpServer.off('upgrade', this.#onUpgrade);
    this.httpServer.off('request', this.#onRequest);
    this.#unwatch?.();
    if (this.#ownsServer && this.httpServer.listening) {
      await new Promise<void>((resolve) => {
        this.httpServer.close(() => resolve());
        this.httpServer.closeAllConnections?.();
      });
    }
    await this.#store.close();
  }

  /** Hands every session to the store, then closes its links (1001): nothing is handled in between. */
  async #park(): Promise<void> {
    const mover = this.#store.sessions;
    if (!mover) return;
    const moved = [];
    // Unclaimed ones too: a client cut right after its welcome here resumes elsewhere.
    for (const c of [...this.#hub.sessions.values()]) {
      const identity = this.#hub.users.identity(c.user);
      if (identity !== undefined) moved.push(c.handOver(identity));
    }
    for (let i = 0; i < moved.length; i++) this.#opts.metrics?.takeover('parked');
    try {
      await mover.park(moved.map((m) => m.state), this.#opts.sessionTtlMs);
    } catch (err) {
      // Their clients resume elsewhere and find nothing: they report `sessionlost`, never silence.
      this.#opts.logger.warn(`leaving ${moved.length} sessions in the store failed: ${String(err)}`);
    }
    for (const m of moved) for (const l of m.links) l.close(CloseCode.GoingAway, 'server shutting down; resume elsewhere');
  }

  #matches(req: IncomingMessage): boolean {
    const path = (req.url ?? '/').split('?')[0];
    return path === this.#opts.path;
  }
}

/**
 * Creates a wirefall endpoint; attach it to an existing server with `options.server`.
 * @example
 * const server = createServer<Chat>({ server: myHttpServer, path: '/realtime' });
 */
export function createServer<Api extends ApiShape & ApiCheck<Api> = AnyApi, User = unknown>(options: ServerOptions<User> = {}): WirefallServer<Api, User> {
  // Bytes the server sends are encoded with Node's base64 (bench/binary.mjs: 7 µs for 64 KiB, 560 with the table).
  useBase64Encoder(nodeBase64);
  return new WirefallServer<Api, User>(options);
}

const nodeBase64 = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
/** HTTP refusals carry the wire code in a header (short tags from older servers mapped): counted once answered. */
function countRefusal(res: ServerResponse, metrics: ServerObserver): void {
  res.once('finish', () => {
    const tag = res.getHeader(REFUSAL_HEADER);
    if (typeof tag !== 'string') return;
    const code = tag === 'origin' ? 'forbidden_origin' : tag === 'session' ? 'session_unknown' : tag;
    if ((WIRE_ERROR_CODES as readonly string[]).includes(code)) metrics.refused(code as WireErrorCode);
  });
}

