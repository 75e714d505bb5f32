import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { HelloFrame } from '../protocol/frames';
import { throttled, type Rate } from './limits';
import { consoleLogger, leveled, type LevelLogger, type LogLevel } from './log';
import type { SessionStore } from './store/types';
import type { ServerObserver } from './observer';
import { checkServerOptions } from './options-check';

export type { Rate } from './limits';

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

/**
 * Where the server reports what happens (`console` has this shape). `warn` is required; the other
 * levels are optional: a logger without `error` gets errors on `warn`, one without `info` or
 * `debug` simply hears nothing at those levels.
 */
export interface Logger {
  warn(message: string, context?: Record<string, unknown>): void;
  /** Failures of the server or of the app's code (a handler that threw, a 500). */
  error?(message: string, context?: Record<string, unknown>): void;
  /** Sessions: announced, ended. */
  info?(message: string, context?: Record<string, unknown>): void;
  /** Links: a session moved to another connection or rung, or lost its link. */
  debug?(message: string, context?: Record<string, unknown>): void;
}

/** Options of `createServer`. */
export interface ServerOptions<User = unknown> {
  /** Attach to this server; otherwise one is created (call `listen`). */
  server?: HttpServer | HttpsServer | undefined;
  /** Endpoint path for every rung. Default `/wirefall`. */
  path?: string | undefined;
  /**
   * Origins allowed to connect (Cross-Site WebSocket Hijacking defence). When set, any other
   * `Origin` is refused with 403; requests without `Origin` (non-browser clients) pass. Default:
   * not set, every origin passes (a warning is logged once).
   */
  allowedOrigins?: string[] | ((origin: string) => boolean) | undefined;
  /** Checks each hello; return user data to accept, or a `Refusal`. Runs after the greeting. */
  authenticate?: ((ctx: AuthContext) => User | Refusal | Promise<User | Refusal>) | undefined;
  /**
   * Who a user is, as a string: a resume, and a sibling attempt of a race, join a session only
   * when `authenticate` says they come from the same user. Default: the same value (`===`), or
   * the same `JSON.stringify` text (so `{ id: 7 }` from two calls is one user). Give this when
   * your user objects carry more than identity (timestamps, tokens): `(u) => u.id`.
   */
  identify?: ((user: User) => string) | undefined;
  /**
   * `authenticate` must answer within this many ms; otherwise the hello fails as if it had thrown
   * (503 `auth_unavailable`, retryable). Default 10000.
   */
  authTimeoutMs?: number | undefined;
  /** Heartbeat interval, announced in the welcome. Default 5000 ms (dead links found in ≤ 15 s). */
  heartbeatMs?: number | undefined;
  /** Largest application message, in bytes of its JSON. Default 1 MiB. */
  maxMessageBytes?: number | undefined;
  /** A connection that sends no hello in this many ms is closed. Default 10000. */
  helloTimeoutMs?: number | undefined;
  /** How long a session waits for its client to come back after a disconnect. Default 60000 ms. */
  sessionTtlMs?: number | undefined;
  /**
   * With a `store`: while the store cannot answer (Redis down, or slower than its command
   * deadline), a client resuming a session this node does not have is refused for a moment
   * (503 `server_error`, retryable) rather than given a new session, for up to this many ms from
   * its first such refusal; past that it gets a new session and reports the old one lost
   * (`sessionlost`). A store outage shorter than this costs no session. Default 10000.
   */
  storeGraceMs?: number | undefined;
  /** Replay buffer bound per session (unacknowledged messages). Default 10000 messages, 8 MiB. */
  replay?: { maxMessages?: number | undefined; maxBytes?: number | undefined } | undefined;
  /** Where refusals and bad input are reported. Default `console`. */
  logger?: Logger | undefined;
  /** The lowest level written: `debug`, `info`, `warn` (default: refusals and bad input, as before levels), `error`, `silent`. */
  logLevel?: LogLevel | undefined;
  /** A repeated log line is written once per this many ms, then with a `repeated` count. Default 10000 (0: every time). */
  logRepeatMs?: number | undefined;
  /**
   * A client whose unread downlink (the socket's `bufferedAmount`, the response's `writableLength`,
   * a long-poll mailbox) grows past this many bytes is a slow reader: its link is closed with
   * `4507` (`slow_reader`); the session waits for a resume. Default 4 MiB.
   */
  maxBufferedBytes?: number | undefined;
  /**
   * Rate limits. `session`: transport messages (WebSocket messages, uplink POSTs) one session
   * may send; over it, `rate_limited` and the link is closed with `4429` (the client resumes with
   * backoff). `ip`: connections (upgrades and HTTP hellos) one address may open; over it, `429`.
   * Default `{ session: { perSecond: 1000, burst: 2000 }, ip: { perSecond: 100, burst: 300 } }`;
   * `false` for either turns it off (behind a proxy every client has the proxy's address).
   */
  rateLimit?: { session?: Rate | false | undefined; ip?: Rate | false | undefined } | undefined;
  /** HTTP rungs: a request's headers must arrive within this many ms (on a server we created). Default 10000. */
  headersTimeoutMs?: number | undefined;
  /** HTTP rungs: an uplink POST's body must arrive within this many ms. Default 10000. */
  bodyTimeoutMs?: number | undefined;
  /**
   * What the server shares with other nodes: fan-out of broadcasts and rooms. Default
   * `memoryStore()` (one process, nothing to run). `redisStore()` from `wirefall/server/redis`
   * spreads broadcasts and room messages over every node on the same Redis (docs/scaling.md).
   */
  store?: SessionStore | undefined;
  /**
   * Where the server counts what it does: `serverMetrics()` from `wirefall/server/metrics`
   * (Prometheus, with prom-client), or your own `ServerObserver`. Default: nothing is counted.
   */
  metrics?: ServerObserver | undefined;
}

/** @internal */
export interface ResolvedServerOptions {
  path: string;
  heartbeatMs: number;
  maxMessageBytes: number;
  helloTimeoutMs: number;
  authTimeoutMs: number;
  sessionTtlMs: number;
  storeGraceMs: number;
  replay: { maxMessages: number; maxBytes: number };
  logger: LevelLogger;
  maxBufferedBytes: number;
  rateLimit: { session: Rate | undefined; ip: Rate | undefined };
  headersTimeoutMs: number;
  bodyTimeoutMs: number;
  metrics: ServerObserver | undefined;
}

/** @internal */
export function resolveServerOptions<U>(o: ServerOptions<U>): ResolvedServerOptions {
  checkServerOptions(o);
  return {
    path: o.path ?? '/wirefall',
    heartbeatMs: o.heartbeatMs ?? 5000,
    maxMessageBytes: o.maxMessageBytes ?? 1024 * 1024,
    helloTimeoutMs: o.helloTimeoutMs ?? 10000,
    authTimeoutMs: o.authTimeoutMs ?? 10000,
    sessionTtlMs: o.sessionTtlMs ?? 60000,
    storeGraceMs: o.storeGraceMs ?? 10000,
    replay: { maxMessages: o.replay?.maxMessages ?? 10000, maxBytes: o.replay?.maxBytes ?? 8 * 1024 * 1024 },
    logger: leveled(o.logger ?? consoleLogger, o.logLevel ?? 'warn', throttled(o.logRepeatMs ?? 10_000)),
    maxBufferedBytes: o.maxBufferedBytes ?? 4 * 1024 * 1024,
    rateLimit: {
      session: o.rateLimit?.session === false ? undefined : (o.rateLimit?.session ?? { perSecond: 1000, burst: 2000 }),
      ip: o.rateLimit?.ip === false ? undefined : (o.rateLimit?.ip ?? { perSecond: 100, burst: 300 }),
    },
    headersTimeoutMs: o.headersTimeoutMs ?? 10_000,
    bodyTimeoutMs: o.bodyTimeoutMs ?? 10_000,
    metrics: o.metrics,
  };
}
