/**
 * Base64 (RFC 4648 §4, with padding). ES2026's native `Uint8Array` methods where the engine has
 * them (browsers since 2025), else the standard `btoa` / `atob` (every browser, worker, Node ≥ 16,
 * Deno and Bun have them). Our own table cost 363 B of the gzipped client; without native methods
 * (Node 20) `btoa` encodes as fast and `atob` decodes at about half its speed (114 against 210
 * MiB/s), ample for the text rungs (docs/protocol.md §1.1 says why base64 rather than a denser alphabet).
 */
type NativeBase64 = { toBase64?: (this: Uint8Array) => string };
const nativeTo = (Uint8Array.prototype as NativeBase64).toBase64;
const nativeFrom = (Uint8Array as unknown as { fromBase64?: (s: string) => Uint8Array }).fromBase64;

/** Without the native method: `btoa` of the bytes as a binary string. */
function btoaEncoder(bytes: Uint8Array): string {
  let s = '';
  // Chunks keep `String.fromCharCode.apply` under engines' argument limits.
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000) as unknown as number[]);
  return btoa(s);
}

let platformEncoder: (bytes: Uint8Array) => string = nativeTo ? (bytes) => nativeTo.call(bytes) : btoaEncoder;

/**
 * Installs the platform's base64 encoder for `toBase64` (the server installs Node's `Buffer`,
 * faster than `btoa`). Only encoding: what a peer sent is decoded strictly, below.
 */
export function useBase64Encoder(encode: (bytes: Uint8Array) => string): void {
  platformEncoder = encode;
}

export const toBase64 = (bytes: Uint8Array): string => platformEncoder(bytes);

/** Canonical padded base64 only: `atob` would also take whitespace and missing padding. */
const STRICT = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Decodes strict base64; returns undefined for anything else (a wrong length, a foreign character). */
export function fromBase64(s: string): Uint8Array | undefined {
  if (!STRICT.test(s)) return undefined;
  if (nativeFrom) return nativeFrom(s);
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}
