import { fromBase64, toBase64 } from './base64';
import { DecodeError } from './codec';
import { WirefallError } from './errors';
import { DEV } from '../dev';
import { TYPE, utf8Length } from './limits';

/**
 * What application data may be: JSON values, plus bytes (`Uint8Array`, `ArrayBuffer`) anywhere
 * inside. Bytes arrive as `Uint8Array`. Everything else (a `Date`, a `Map`, a class instance, a
 * function, `NaN`) would be changed on the way by `JSON.stringify`, silently, so `send` refuses it.
 */
export type Wire = string | number | boolean | null | Uint8Array | ArrayBuffer | readonly Wire[] | { readonly [key: string]: Wire | undefined };

type Leaf = string | number | boolean | null | undefined | Uint8Array | ArrayBuffer;
type NotPlain = Date | RegExp | Map<unknown, unknown> | Set<unknown> | WeakMap<object, unknown> | WeakSet<object> | Promise<unknown> | Error | ArrayBufferView;

/**
 * `T` where every part of it can make the trip, `never` where a part cannot: a parameter typed
 * `Sendable<T>` makes `send('x', { when: new Date() })` a compile error. A class instance whose
 * methods are part of its type is refused too; one with only fields looks like a plain object to
 * the compiler, and is refused at run time (`WF_INVALID`).
 */
export type Sendable<T> = unknown extends T
  ? Wire
  : T extends Leaf
    ? T
    : T extends (...args: never[]) => unknown
      ? never
      : T extends NotPlain
        ? never
        : T extends readonly unknown[]
          ? { [I in keyof T]: Sendable<T[I]> }
          : T extends object
            ? { [K in keyof T]: Sendable<T[K]> }
            : never;

/** Payload encodings of the `e` field of a `msg` frame (docs/protocol.md §1.1). */
export const BINARY = 'b64';

/** Deep enough for any real message; deeper is a cycle, or an attack on the decoder's stack. */
const MAX_DEPTH = 256;

const isBytes = (v: object): v is Uint8Array | ArrayBuffer => v instanceof Uint8Array || v instanceof ArrayBuffer;

/** Why a value cannot be sent, or undefined when it can (a leaf check: containers are walked). */
function problem(v: unknown, inArray: boolean): string | undefined {
  switch (typeof v) {
    case 'string':
    case 'boolean':
    case 'object':
      return undefined;
    case 'number':
      return Number.isFinite(v) ? undefined : String(v);
    case 'undefined':
      // An undefined property is left out, as JSON does (optional fields); in an array it would become null.
      return inArray ? 'undefined' : undefined;
    default:
      return typeof v;
  }
}

const plain = (v: object) => {
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
};

/** A part JSON keeps as it is, and the most common one: a string, a boolean, a finite number. */
const leaf = (x: unknown, t = typeof x) => t === 'string' || t === 'boolean' || (t === 'number' && (x as number) - (x as number) === 0);

/**
 * Walks `v` once, building no path strings: true when bytes are inside, false for plain JSON, and
 * `null` when something cannot be sent (then `locate` walks again to name it). Leaves are tested
 * before recursing: this runs for every message sent (bench/payload.mjs measures it against
 * `JSON.stringify`).
 */
function scan(v: unknown, inArray: boolean, depth: number): boolean | null {
  if (leaf(v) || v === null) return false;
  // NaN and ±Infinity, functions, symbols, bigints; undefined in an array (it would become null).
  if (typeof v !== 'object') return v === undefined && !inArray ? false : null;
  if (depth > MAX_DEPTH) return null;
  let bytes = false;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const r = leaf(v[i]) ? false : scan(v[i], true, depth + 1);
      if (r === null) return null;
      bytes ||= r;
    }
    return bytes;
  }
  // A plain object first, the commonest part: the two `instanceof` tests of bytes only for the
  // rest. For the bench's flat object the check then costs ~80 ns over JSON.stringify instead of
  // ~115 (fresh objects, interleaved, each thread pinned).
  if (!plain(v)) return isBytes(v) || null;
  for (const k in v) {
    const x = (v as Record<string, unknown>)[k];
    const r = leaf(x) ? false : scan(x, false, depth + 1);
    if (r === null) return null;
    bytes ||= r;
  }
  return bytes;
}

/** The path and kind of the first part of `v` that cannot be sent (the slow walk, on failure only). */
function locate(v: unknown, path: string, inArray: boolean, depth: number): string | undefined {
  if (typeof v !== 'object' || v === null) {
    const p = problem(v, inArray);
    return p && `${path}: ${p}`;
  }
  if (depth > MAX_DEPTH) return `${path}: nesting deeper than ${MAX_DEPTH} (a cycle?)`;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const p = locate(v[i], `${path}[${i}]`, true, depth + 1);
      if (p) return p;
    }
    return undefined;
  }
  if (isBytes(v)) return undefined;
  if (!plain(v)) return `${path}: ${v.constructor?.name || 'object without a plain prototype'}`;
  for (const k in v) {
    const p = locate((v as Record<string, unknown>)[k], `${path}.${k}`, false, depth + 1);
    if (p) return p;
  }
  return undefined;
}

// Objects are built with Object.fromEntries: a key "__proto__" stays data (an own property), as
// JSON.parse makes it, rather than becoming the object's prototype.
function toTagged(v: unknown): unknown {
  if (typeof v !== 'object' || v === null) return v;
  if (Array.isArray(v)) return v.map(toTagged);
  if (isBytes(v)) return { $b: toBase64(v instanceof Uint8Array ? v : new Uint8Array(v)) };
  return Object.fromEntries(Object.keys(v).map((k) => [k[0] === '$' ? `$${k}` : k, toTagged((v as Record<string, unknown>)[k])]));
}

/**
 * The data of a tagged payload: `$$`-escaped keys restored, and each tag replaced by its bytes:
 * `{"$b":"<base64>"}` in text (`b64`), or `{"$r":i}`, the i-th raw segment of a binary WebSocket
 * message (`bin`, §1.3), when `raw` is given.
 */
function fromTagged(v: unknown, raw?: readonly Uint8Array[], depth = 0): unknown {
  if (typeof v !== 'object' || v === null) return v;
  if (depth > MAX_DEPTH) throw new DecodeError(DEV ? 'data nested too deep' : '');
  if (Array.isArray(v)) return v.map((x) => fromTagged(x, raw, depth + 1));
  const keys = Object.keys(v);
  if (keys.length === 1 && keys[0] === (raw ? RAW : '$b')) {
    const tag: unknown = (v as Record<string, unknown>)[keys[0]];
    // A segment is copied: the message's buffer may be large, or reused by the socket.
    const bytes = typeof tag !== (raw ? 'number' : 'string') ? undefined : raw ? raw[tag as number]?.slice() : fromBase64(tag as string);
    if (!bytes) throw new DecodeError(DEV ? 'bad bytes in binary data' : '');
    return bytes;
  }
  return Object.fromEntries(
    keys.map((k) => {
      if (k[0] === '$' && k[1] !== '$') throw new DecodeError(DEV ? `unescaped key ${JSON.stringify(k.slice(0, 32))} in binary data` : '');
      return [k[0] === '$' ? k.slice(1) : k, fromTagged((v as Record<string, unknown>)[k], raw, depth + 1)];
    }),
  );
}

/** The tag of a raw segment in a binary WebSocket message (§1.3). */
export const RAW = '$r';

/** The data of a `bin` msg frame, its `{"$r":i}` tags resolved against the message's segments. */
export const resolveRaw: (d: unknown, segments: readonly Uint8Array[]) => unknown = fromTagged;

/**
 * The size of a received message's data in bytes: its JSON, with bytes (already decoded from a
 * binary WebSocket message) counted raw. The message bound applies to it (§1.1).
 */
export function dataBytes(d: unknown): number {
  let raw = 0;
  const json = JSON.stringify(d, (_k, v: unknown) => (v instanceof Uint8Array ? ((raw += v.byteLength), 0) : v)) ?? '';
  return utf8Length(json) + raw;
}

/** An application payload ready for a `msg` frame: its JSON, and its encoding when not plain JSON. */
export interface Encoded {
  payload: string;
  e?: typeof BINARY;
}

/**
 * Encodes `data` of message `type` (or request name), or throws `WF_INVALID` naming the part that
 * cannot be sent, or saying that the type is longer than the peer's decoder takes (§1): such a
 * message would break the link on every resend, and every message behind it would wait for ever.
 */
export function encodeData(data: unknown, type: string): Encoded {
  if (type.length > TYPE) throw new WirefallError('WF_INVALID', DEV ? `"${type.slice(0, 32)}…": a type or request name is at most ${TYPE} characters` : '');
  const bytes = scan(data, false, 0);
  if (bytes === null) {
    // Naming the part takes a second walk and its text: the default build only (src/dev.ts).
    throw new WirefallError('WF_INVALID', DEV ? `${locate(data, `"${type}" data`, false, 0) ?? `"${type}" data: unknown`} cannot be sent (JSON values and Uint8Array/ArrayBuffer only)` : '');
  }
  // Undefined data (a send without any) goes as null.
  return bytes ? { payload: JSON.stringify(toTagged(data)), e: BINARY } : { payload: JSON.stringify(data) ?? 'null' };
}

/** The data of a received `msg` frame (`d`, `e`); throws `DecodeError` when the encoding is broken or unknown. */
export function decodeData(d: unknown, e: string | undefined): unknown {
  if (e === undefined) return d;
  if (e !== BINARY) throw new DecodeError(DEV ? `unknown payload encoding ${JSON.stringify(e)}` : '');
  return fromTagged(d);
}

/**
 * `encodeData` for an application's own message: also refuses the protocol's reserved types
 * (`$…`, §1.2). Returns the error rather than throwing it (a server's `send` rejects with it).
 */
export function tryEncode(data: unknown, type: string): Encoded | WirefallError {
  // A type the peer's decoder would refuse would be a poison message: refused, resent on every
  // resume, and every message behind it waiting.
  if (typeof type !== 'string' || !type) return new WirefallError('WF_INVALID', `a message type is a non-empty string, not ${JSON.stringify(type) ?? String(type)}`);
  if (type[0] === '$') return new WirefallError('WF_INVALID', `"${type}": types starting with $ are reserved`);
  try {
    return encodeData(data, type);
  } catch (err) {
    // Not only ours: a getter of the app's data that throws, or a type that is not a string (from
    // JavaScript). Still WF_INVALID, so that the server's `send` rejects instead of throwing.
    return err instanceof WirefallError ? err : new WirefallError('WF_INVALID', `"${String(type)}" data cannot be sent: ${String(err)}`, { cause: err });
  }
}
