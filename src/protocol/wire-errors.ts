/**
 * The `code` of an `error` frame, and of the `x-wirefall-error` header that marks an HTTP
 * refusal as the server's own. docs/protocol.md §7 documents each one; a client maps them to its
 * `WF_*` codes (see `wireToErrorCode`).
 */
export type WireErrorCode =
  /** `authenticate` refused (status 401 or 403). Ends the ladder: every rung would hear the same. */
  | 'unauthorized'
  /** The `Origin` is not allowed (403). Ends the ladder. */
  | 'forbidden_origin'
  /** The hello asked for a protocol version this server does not speak. Ends the ladder. */
  | 'unsupported_version'
  /** A GET that carries `Sec-WebSocket-Key` but no `Upgrade`: a proxy removed the upgrade on the way. */
  | 'upgrade_stripped'
  /** A frame could not be decoded, or broke the protocol (an ack of unsent messages, a gap). */
  | 'protocol_error'
  /** A message or a request body exceeded the server's limit. */
  | 'too_large'
  /** No hello arrived within the server's hello timeout. */
  | 'hello_timeout'
  /** An HTTP request the endpoint does not understand (a missing or unknown query parameter). */
  | 'bad_request'
  /** The `hello` query parameter is not one hello frame. */
  | 'bad_hello'
  /** An HTTP method the endpoint does not use. */
  | 'bad_method'
  /** An uplink POST or a poll named a session the server does not know (expired, replaced, wrong key). */
  | 'session_unknown'
  /** The server failed while handling the request. */
  | 'server_error'
  /**
   * `authenticate` threw, rejected, or did not answer within the server's `authTimeoutMs` (its
   * backend is down or slow). Status 503, retryable: only an explicit refusal is final.
   */
  | 'auth_unavailable'
  /** Too many messages from one session, or too many connections from one address (429). */
  | 'rate_limited'
  /** The client did not read its downlink: more than the server's bound waited unread. */
  | 'slow_reader'
  /** An HTTP request's body did not arrive within the server's deadline (408). */
  | 'request_timeout'
  /** Protocol 2: an HTTP open named a ticket that is used, expired, or for another rung or address (404). */
  | 'ticket_unknown';

/** Values of the `x-wirefall-error` header (the wire codes, plus the short tags older servers sent). */
export const REFUSAL_HEADER = 'x-wirefall-error';

/**
 * Every wire error code at run time, for tests and tools that check an answer is documented.
 * The type check below fails to compile when the union and this list disagree.
 */
export const WIRE_ERROR_CODES = [
  'unauthorized', 'forbidden_origin', 'unsupported_version', 'upgrade_stripped', 'protocol_error', 'too_large',
  'hello_timeout', 'bad_request', 'bad_hello', 'bad_method', 'session_unknown', 'server_error', 'auth_unavailable',
  'rate_limited', 'slow_reader', 'request_timeout', 'ticket_unknown',
] as const satisfies readonly WireErrorCode[];
type Missing = Exclude<WireErrorCode, (typeof WIRE_ERROR_CODES)[number]>;
const everyCodeListed: [Missing] extends [never] ? true : Missing = true;
void everyCodeListed;
