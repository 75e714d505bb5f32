import type { ByeFrame, ErrorFrame, HelloFrame, ReportEntry, WelcomeFrame } from './frames';
import { PROTOCOL_VERSIONS } from './frames';
import type { WireErrorCode } from './wire-errors';
import { cutUtf8, LIMITS } from './limits';

/**
 * Typed encoders: the one place where frames become text, for client and server alike. The hot
 * ones (msg, ack, ping, pong) are templates rather than `JSON.stringify` of an object, because
 * they run once per message or heartbeat; their fields are numbers or pre-encoded JSON, so the
 * template cannot produce invalid JSON. Everything else goes through `JSON.stringify`.
 */
export const encodeFrame = {
  greet: (): string => `{"t":"greet","v":${JSON.stringify(PROTOCOL_VERSIONS)}}`,
  hello: (f: Omit<HelloFrame, 't'>): string => JSON.stringify({ t: 'hello', ...f }),
  welcome: (f: Omit<WelcomeFrame, 't'>): string => JSON.stringify({ t: 'welcome', ...f }),
  /**
   * `payload` is the message data already encoded as JSON (encoded once, resent as is); `e` its
   * encoding (`b64`: bytes inside, §1.1); `a` an ack riding with it (`pa`, §4).
   */
  msg: (s: number, ev: string, payload: string, e?: string, a?: number): string =>
    `{"t":"msg",${a === undefined ? '' : `"a":${a},`}"s":${s},"ev":${JSON.stringify(ev)},"d":${payload}${e === undefined ? '' : `,"e":"${e}"`}}`,
  report: (a: ReportEntry[]): string => JSON.stringify({ t: 'report', a }),
  ack: (a: number): string => `{"t":"ack","a":${a}}`,
  ping: (n?: number): string => (n === undefined ? '{"t":"ping"}' : `{"t":"ping","n":${n}}`),
  pong: (n?: number): string => (n === undefined ? '{"t":"pong"}' : `{"t":"pong","n":${n}}`),
  /** The reason is cut to the codec's bound, as a WebSocket close reason is. */
  bye: (code: ByeFrame['code'], reason?: string): string =>
    JSON.stringify({ t: 'bye', code, reason: reason === undefined ? undefined : cutUtf8(reason) }),
  /**
   * A fatal error precedes the end of the connection; a non-fatal one is information. The message
   * may quote the app (an `authenticate` refusal) or the peer, so it is cut to the codec's bound.
   */
  error: (code: WireErrorCode, message: string, status?: number, fatal = true): string =>
    JSON.stringify({ t: 'error', code, message: cutUtf8(message, LIMITS.message), status, fatal } satisfies ErrorFrame),
};

/**
 * `parts` joined with commas between `open` and `close`, as one flat string. The ends are added to
 * a copy of the array (pointers) before the join: `[${parts.join(',')}]` is a rope that the socket
 * write, fetch or a slice copies again, and a batch in a burst is a megabyte.
 */
export const wrapFrames = (open: string, parts: readonly string[], close: string): string => {
  const a = parts.slice();
  a[0] = open + a[0]!;
  a[a.length - 1] += close;
  return a.join(',');
};

/** The frames of a transport message as a list's inside (`a,b`): a batch gives its elements, a frame itself. */
export const unbatch = (text: string): string => (text[0] === '[' ? text.slice(1, -1) : text);

/** Several encoded frames as one transport message: alone, or as a batch. */
export const batch = (parts: readonly string[]): string => (parts.length === 1 ? parts[0]! : wrapFrames('[', parts, ']'));
