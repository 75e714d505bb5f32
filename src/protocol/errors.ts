import type { RungName } from './api';

/**
 * Every failure wirefall reports, as a stable code. docs/errors.md explains each one; attempt
 * diagnostics use the same codes, so they can be counted across a fleet.
 */
export type ErrorCode =
  /** The server or a middlebox answered the connection with an HTTP error status. */
  | 'WF_REFUSED'
  /** A proxy demanded authentication (HTTP 407). */
  | 'WF_PROXY_AUTH'
  /** The connection failed without an HTTP status: unreachable, reset, TLS, or a proxy the page cannot see. */
  | 'WF_NETWORK'
  /** The WebSocket handshake failed after an answer came (e.g. a proxy rewrote `Connection`). */
  | 'WF_HANDSHAKE'
  /**
   * The WebSocket upgrade reached the server as a plain GET: a proxy that does not know WebSocket
   * removed the hop-by-hop `Upgrade` header (RFC 9110 §7.6.1). Node sees it; browsers see `WF_NETWORK`.
   */
  | 'WF_UPGRADE_STRIPPED'
  /** No answer at all within the open timeout: the connection hangs. */
  | 'WF_OPEN_TIMEOUT'
  /** The socket opened but not one byte of data arrived: frames are dropped after the upgrade. */
  | 'WF_NO_DATA'
  /** The server's greeting arrived but its welcome did not: the hello was swallowed, or the server is too slow. */
  | 'WF_NO_WELCOME'
  /** Nothing arrived from the server within the heartbeat deadline. */
  | 'WF_STALLED'
  /** The server kept talking but stopped acknowledging: what the client sends no longer arrives. */
  | 'WF_UPLINK_STALLED'
  /** The connection closed unexpectedly. */
  | 'WF_DISCONNECTED'
  /** The server's `authenticate` hook, or its origin policy, refused (status 401 or 403). */
  | 'WF_UNAUTHORIZED'
  /** The peer sent something that breaks the protocol. */
  | 'WF_PROTOCOL'
  /** Client and server share no protocol version. */
  | 'WF_VERSION'
  /** A message is larger than the server accepts. */
  | 'WF_TOO_LARGE'
  /** The outbox is full; the message was not queued. */
  | 'WF_OUTBOX_FULL'
  /** The client was closed; the message will not be delivered. */
  | 'WF_CLOSED'
  /** The server no longer knew the session; messages it had not acknowledged were not delivered. */
  | 'WF_SESSION_LOST'
  /** The server reported an internal error. */
  | 'WF_SERVER_ERROR'
  /** A transport implementation (a `transportFactories` entry) threw when an attempt started it. */
  | 'WF_TRANSPORT'
  /** The options given to `connect` or `send` are invalid; or a listener or subscriber threw. */
  | 'WF_INVALID'
  /** The `auth` callback threw or rejected: no credentials for this try (retried with backoff). */
  | 'WF_AUTH'
  /** A request's handler on the server failed: `remoteCode` and the message are the app's. */
  | 'WF_REQUEST_FAILED'
  /** A request got no reply within its timeout (the handler may still run, once). */
  | 'WF_TIMEOUT';

/** Codes that trying again cannot fix without a change by the app or the user. */
const FINAL = /UNAUTH|VERSION|LARGE|FULL|CLOSED|LOST|INVALID|REQUEST_FAILED/;

export interface ErrorDetails {
  rung?: RungName;
  url?: string;
  /** The HTTP status, wherever one was observed (browsers hide it for WebSocket). */
  status?: number;
  /** The WebSocket close code or `bye` code, when there was one. */
  closeCode?: number;
  /** `WF_REQUEST_FAILED`: the error code the server's handler gave. */
  remoteCode?: string;
  cause?: unknown;
}

/** The one error class wirefall throws, rejects with and emits. Branch on `code`. */
export class WirefallError extends Error {
  declare readonly code: ErrorCode;
  /** True when trying again later may succeed. */
  declare readonly retryable: boolean;
  declare readonly rung?: RungName;
  declare readonly url?: string;
  declare readonly status?: number;
  declare readonly closeCode?: number;
  declare readonly remoteCode?: string;
  declare readonly cause?: unknown;

  /** `message` explains; the production build passes '' (src/dev.ts), and then the code is the message. */
  constructor(code: ErrorCode, message: string, details: ErrorDetails = {}) {
    super(message || code);
    Object.assign(this, details, { name: 'WirefallError', code, retryable: !FINAL.test(code) });
  }
}
