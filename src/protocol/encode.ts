import type { HelloFrame, ReportEntry } from './frames';

/**
 * The JSON of a message type, remembered for the last one: a burst sends thousands of messages of
 * one type, and `JSON.stringify` of the type was a third of each frame's template.
 */
let lastEv: string | undefined;
let lastEvJson = '';
const evJson = (ev: string): string => (ev === lastEv ? lastEvJson : (lastEvJson = JSON.stringify((lastEv = ev))));

/** A ping or a pong, with its number when it has one. */
const beat = (t: string, n?: number) => `{"t":"${t}"${n === undefined ? '' : `,"n":${n}`}}`;

/*
 * Typed encoders: the one place where frames become text. These are what a client writes (and a
 * server too: msg, ack, ping, pong); the frames only a server writes (greet, welcome, error, a bye
 * with a reason) are encoded in src/server/codec.ts, out of the client's bundle. The hot ones
 * (msg, ack, ping, pong) are templates rather than `JSON.stringify` of an object, because they run
 * once per message or heartbeat; their fields are numbers or pre-encoded JSON, so the template
 * cannot produce invalid JSON. Everything else goes through `JSON.stringify`. Each is a function of
 * its own (gathered in `encodeFrame` for the server): the client's minifier names them with a
 * letter or two, where an object's property names stay in the bundle.
 */
export const encodeHello = (f: Omit<HelloFrame, 't'>): string => JSON.stringify({ t: 'hello', ...f });
/**
 * `payload` is the message data already encoded as JSON (encoded once, resent as is); `e` its
 * encoding (`b64`: bytes inside, §1.1); `a` an ack riding with it (`pa`, §4).
 */
export const encodeMsg = (s: number, ev: string, payload: string, e?: string, a?: number): string =>
  `{"t":"msg",${a === undefined ? '' : `"a":${a},`}"s":${s},"ev":${evJson(ev)},"d":${payload}${e === undefined ? '' : `,"e":"${e}"`}}`;
export const encodeReport = (a: ReportEntry[]): string => JSON.stringify({ t: 'report', a });
export const encodeAck = (a: number): string => `{"t":"ack","a":${a}}`;
export const encodePing = (n?: number): string => beat('ping', n);
export const encodePong = (n?: number): string => beat('pong', n);
/** A bye without a reason (a client's close of an HTTP session). */
export const encodeBye = (code: number): string => `{"t":"bye","code":${code}}`;

/** The encoders above as one object, which the server's codec extends with its own frames. */
export const encodeFrame = { hello: encodeHello, msg: encodeMsg, report: encodeReport, ack: encodeAck, ping: encodePing, pong: encodePong, bye: encodeBye };

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
