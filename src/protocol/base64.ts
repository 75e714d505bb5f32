/**
 * Base64 (RFC 4648 §4, with padding) without globals: `btoa` wants a binary string (a copy per
 * byte), `Buffer` is Node's only. Table-driven, it encodes ~220 MiB/s and decodes ~380 MiB/s
 * on the 2-core test VM (docs/protocol.md §1.1 says why base64 rather than a denser alphabet).
 */
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const CODES = Array.from(ALPHABET, (c) => c.charCodeAt(0));
const VALUES = new Int16Array(128).fill(-1);
for (let i = 0; i < 64; i++) VALUES[CODES[i]!] = i;

// ES2026's `Uint8Array.prototype.toBase64` where the engine has it (browsers since 2025): native.
const nativeTo = (Uint8Array.prototype as { toBase64?: (this: Uint8Array) => string }).toBase64;
let platformEncoder: ((bytes: Uint8Array) => string) | undefined = nativeTo && ((bytes) => nativeTo.call(bytes));

/**
 * Installs the platform's base64 encoder for `toBase64` (the server installs Node's `Buffer`, some
 * fifty times faster than the table below; engines with `toBase64` use theirs already). Only encoding: decoding what a peer sent stays the
 * strict table below, which refuses what Node's lenient decoder would skip.
 */
export function useBase64Encoder(encode: (bytes: Uint8Array) => string): void {
  platformEncoder = encode;
}

export function toBase64(bytes: Uint8Array): string {
  if (platformEncoder) return platformEncoder(bytes);
  const n = bytes.length;
  const out: string[] = [];
  // Chunks keep `String.fromCharCode.apply` under engines' argument limits.
  const chunk = new Array<number>(Math.min(4 * 8192, Math.ceil(n / 3) * 4));
  let k = 0;
  for (let i = 0; i < n; i += 3) {
    const a = bytes[i]!;
    const b = i + 1 < n ? bytes[i + 1]! : 0;
    const c = i + 2 < n ? bytes[i + 2]! : 0;
    chunk[k++] = CODES[a >> 2]!;
    chunk[k++] = CODES[((a & 3) << 4) | (b >> 4)]!;
    chunk[k++] = i + 1 < n ? CODES[((b & 15) << 2) | (c >> 6)]! : 61; // '='
    chunk[k++] = i + 2 < n ? CODES[c & 63]! : 61;
    if (k === chunk.length) {
      out.push(String.fromCharCode.apply(null, chunk));
      k = 0;
    }
  }
  if (k) out.push(String.fromCharCode.apply(null, chunk.slice(0, k)));
  return out.join('');
}

/** Decodes strict base64; returns undefined for anything else (a wrong length, a foreign character). */
export function fromBase64(s: string): Uint8Array | undefined {
  if (s.length % 4) return undefined;
  const pad = s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0;
  const out = new Uint8Array((s.length / 4) * 3 - pad);
  let o = 0;
  for (let i = 0; i < s.length; i += 4) {
    const last = i + 4 === s.length;
    const a = VALUES[s.charCodeAt(i)] ?? -1;
    const b = VALUES[s.charCodeAt(i + 1)] ?? -1;
    const c = last && pad === 2 ? 0 : VALUES[s.charCodeAt(i + 2)] ?? -1;
    const d = last && pad >= 1 ? 0 : VALUES[s.charCodeAt(i + 3)] ?? -1;
    if ((a | b | c | d) < 0) return undefined;
    const n = (a << 18) | (b << 12) | (c << 6) | d;
    out[o++] = n >> 16;
    if (o < out.length) out[o++] = (n >> 8) & 255;
    if (o < out.length) out[o++] = n & 255;
  }
  return out;
}
