import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { HelloFrame } from '../protocol/frames';

/** What `authenticate` sees. */
export interface AuthContext {
  request: IncomingMessage;
  /** The `auth` field of the client's hello (whatever the client passed as `options.auth`). */
  auth: unknown;
  hello: HelloFrame;
}

/** `authenticate` refuses by returning (or throwing) one of these. */
export interface Refusal {
  status: 401 | 403;
  message?: string;
}

export interface Logger {
  warn(message: string, context?: Record<string, unknown>): void;
}

/** Options of `createServer`. */
export interface ServerOptions<User = unknown> {
  /** Attach to this server; otherwise one is created (call `listen`). */
  server?: HttpServer | HttpsServer;
  /** Endpoint path for every rung. Default `/wirefall`. */
  path?: string;
  /**
   * Origins allowed to connect (Cross-Site WebSocket Hijacking defence). When set, any other
   * `Origin` is refused with 403; requests without `Origin` (non-browser clients) pass. Default:
   * not set, every origin passes (a warning is logged once).
   */
  allowedOrigins?: string[] | ((origin: string) => boolean);
  /** Checks each hello; return user data to accept, or a `Refusal`. Runs after the greeting. */
  authenticate?: (ctx: AuthContext) => User | Refusal | Promise<User | Refusal>;
  /**
   * Who a user is, as a string: a resume, and a sibling attempt of a race, join a session only
   * when `authenticate` says they come from the same user. Default: the same value (`===`), or
   * the same `JSON.stringify` text (so `{ id: 7 }` from two calls is one user). Give this when
   * your user objects carry more than identity (timestamps, tokens): `(u) => u.id`.
   */
  identify?: (user: User) => string;
  /**
   * `authenticate` must answer within this many ms; otherwise the hello fails as if it had thrown
   * (503 `auth_unavailable`, retryable). Default 10000.
   */
  authTimeoutMs?: number;
  /** Heartbeat interval, announced in the welcome. Default 5000 ms (dead links found in ≤ 15 s). */
  heartbeatMs?: number;
  /** Largest application message, in bytes of its JSON. Default 1 MiB. */
  maxMessageBytes?: number;
  /** A connection that sends no hello in this many ms is closed. Default 10000. */
  helloTimeoutMs?: number;
  /** How long a session waits for its client to come back after a disconnect. Default 60000 ms. */
  sessionTtlMs?: number;
  /** Replay buffer bound per session (unacknowledged messages). Default 10000 messages, 8 MiB. */
  replay?: { maxMessages?: number; maxBytes?: number };
  /** Where refusals and bad input are reported. Default `console`. */
  logger?: Logger;
}

/** @internal */
export interface ResolvedServerOptions {
  path: string;
  heartbeatMs: number;
  maxMessageBytes: number;
  helloTimeoutMs: number;
  authTimeoutMs: number;
  sessionTtlMs: number;
  replay: { maxMessages: number; maxBytes: number };
  logger: Logger;
}

/** @internal */
export function resolveServerOptions<U>(o: ServerOptions<U>): ResolvedServerOptions {
  return {
    path: o.path ?? '/wirefall',
    heartbeatMs: o.heartbeatMs ?? 5000,
    maxMessageBytes: o.maxMessageBytes ?? 1024 * 1024,
    helloTimeoutMs: o.helloTimeoutMs ?? 10000,
    authTimeoutMs: o.authTimeoutMs ?? 10000,
    sessionTtlMs: o.sessionTtlMs ?? 60000,
    replay: { maxMessages: o.replay?.maxMessages ?? 10000, maxBytes: o.replay?.maxBytes ?? 8 * 1024 * 1024 },
    logger: o.logger ?? { warn: (m, c) => console.warn(`[wirefall] ${m}`, c ?? '') },
  };
}
