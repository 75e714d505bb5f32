/**
 * WebSocket close codes (and `bye` codes on the HTTP rungs). 4000–4999 is the range RFC 6455
 * §7.4.2 leaves to applications; the last three digits echo the nearest HTTP status.
 */
export const CloseCode = {
  /** The client called `close()`. */
  Normal: 1000,
  /** The server is going away (shutdown); reconnect, possibly elsewhere. */
  GoingAway: 1001,
  /** A frame could not be parsed or broke the protocol. */
  ProtocolError: 4000,
  /** No common protocol version. */
  UnsupportedVersion: 4001,
  /** The hello did not arrive in time. */
  HelloTimeout: 4008,
  /** The peer missed its heartbeat deadline. */
  HeartbeatTimeout: 4009,
  /** The client dropped a connection attempt that lost the race to another rung. */
  Abandoned: 4010,
  /** `authenticate` refused with 401. */
  Unauthorized: 4401,
  /** `authenticate` refused with 403. */
  Forbidden: 4403,
  /** The session moved to a newer connection (a rung change or a reconnect). */
  Replaced: 4409,
  /** A message exceeded the size limit. */
  TooLarge: 4413,
  /** The server failed while handling the connection. */
  ServerError: 4500,
  /** The session sent faster than the server's rate limit (`rate_limited`). */
  RateLimited: 4429,
  /** `authenticate` failed or timed out (`auth_unavailable`): try again later. */
  Unavailable: 4503,
  /** The client left more than the server's bound of its downlink unread (`slow_reader`). */
  SlowReader: 4507,
} as const;

export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];
