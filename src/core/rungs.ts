import { DEV } from '../dev';
import { LADDER, type RungName } from '../protocol/api';
import { WirefallError } from '../protocol/errors';

export { LADDER, type RungName };

/** One rung to try: which transport, at which URL. */
export interface Rung {
  name: RungName;
  url: string;
}

export interface RungOptions {
  /** Port for the `wss` rung derived from an `http:`/`ws:` URL. Default 443. */
  securePort?: number;
  /** Which rungs to use, in ladder order. Default: all. */
  transports?: readonly RungName[];
  /** The page's address: relative URLs resolve against it; `https:` means no plain `ws:` (mixed content). */
  pageUrl?: string;
}

/**
 * Derives the ladder from one URL. An `http:`/`ws:` URL tries `wss` on the secure port first,
 * because corporate proxies refuse CONNECT to anything but 443 while passing TLS; a secure URL
 * or page never tries plain `ws` (browsers block it as mixed content).
 */
export function deriveRungs(url: string, opts: RungOptions = {}): Rung[] {
  let u: URL;
  try {
    u = new URL(url, opts.pageUrl);
  } catch (cause) {
    throw new WirefallError('WF_INVALID', DEV ? `invalid URL: ${url}` : '', { cause });
  }
  // A fragment means nothing to a server, and breaks every rung: WebSocket constructors refuse it,
  // and the HTTP rungs' query would land inside it.
  u.hash = '';
  const tls = /^(https|wss):$/.test(u.protocol);
  if (!/^(http|ws)s?:$/.test(u.protocol)) throw new WirefallError('WF_INVALID', DEV ? `unsupported scheme ${u.protocol}` : '');
  const secure = tls || opts.pageUrl?.startsWith('https:');
  const { port } = u;
  // One URL, rewritten for each rung: the protocol and the port set say all of it.
  const at = (protocol: string, p = port) => ((u.protocol = protocol), (u.port = p), u.href);
  const http = at(secure ? 'https:' : 'http:');
  // In LADDER's order. An http URL on an https page is upgraded in place; its port then belongs to the TLS listener.
  const urls = [at('wss:', tls ? port : String(opts.securePort ?? 443)), !secure && at('ws:'), http, http];
  return LADDER.flatMap((name, i) => (urls[i] && (opts.transports ?? LADDER).includes(name) ? [{ name, url: urls[i] as string }] : []));
}
