import type { Reply } from './scenarios';

/** HTTP/1.1 heads as the lab proxy reads and rewrites them (only heads: bodies stream through). */
export const HEAD_END = Buffer.from('\r\n\r\n');
export const MAX_HEAD = 64 * 1024;
export const EMPTY = Buffer.alloc(0);

export interface Head {
  line: string;
  headers: [string, string][];
}

export function parseHead(raw: Buffer): Head | undefined {
  const [line, ...rest] = raw.toString('latin1').split('\r\n');
  if (!line || !/^\S+ \S+/.test(line)) return undefined;
  const headers: [string, string][] = [];
  for (const h of rest) {
    const i = h.indexOf(':');
    if (i <= 0) return undefined;
    headers.push([h.slice(0, i).trim(), h.slice(i + 1).trim()]);
  }
  return { line, headers };
}

export const getHeader = (h: Head, name: string): string | undefined =>
  h.headers.find(([n]) => n.toLowerCase() === name)?.[1];

/** Replace the first `name` header in place (order matters to picky peers), drop the rest. */
export function setHeader(h: Head, name: string, value?: string): void {
  const i = h.headers.findIndex(([n]) => n.toLowerCase() === name);
  h.headers = h.headers.filter(([n], j) => j === i || n.toLowerCase() !== name);
  if (i < 0) {
    if (value !== undefined) h.headers.push([name.replace(/(^|-)\w/g, (c) => c.toUpperCase()), value]);
  } else if (value === undefined) {
    h.headers.splice(i, 1);
  } else {
    h.headers[i] = [h.headers[i]![0], value];
  }
}

/**
 * The `Upgrade` header goes, as at a proxy that does not know WebSocket: it and the `upgrade`
 * token of `Connection` are hop-by-hop (RFC 9110 §7.6.1), so the handshake (Sec-WebSocket-Key and
 * all) continues as a plain HTTP/1.1 request. `closeAfter` replaces the rest of `Connection`.
 */
export function stripUpgrade(h: Head): void {
  setHeader(h, 'upgrade');
}

/** One request or answer per connection: `Connection: close`, and the headers of keep-alive (`also`) gone. */
export function closeAfter(h: Head, ...also: string[]): void {
  setHeader(h, 'connection', 'close');
  for (const name of ['keep-alive', ...also]) setHeader(h, name);
}

export const serialize = (h: Head): Buffer =>
  Buffer.from(`${h.line}\r\n${h.headers.map(([n, v]) => `${n}: ${v}\r\n`).join('')}\r\n`, 'latin1');

/** The lab's own answer as bytes: a plain-text status line unless the reply brings its body; the connection closes after it. */
export function formatReply({ status, reason, headers = ['Content-Type: text/plain'], body = `${status} ${reason}\n` }: Reply): Buffer {
  const head = [`HTTP/1.1 ${status} ${reason}`, ...headers, `Content-Length: ${Buffer.byteLength(body)}`, 'Connection: close'];
  return Buffer.from(`${head.join('\r\n')}\r\n\r\n${body}`);
}
