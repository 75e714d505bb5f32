import type { IncomingMessage, ServerResponse } from 'node:http';
import { decode, encodeFrame } from './codec';
import type { Frame } from '../protocol/frames';
import type { WireErrorCode } from '../protocol/wire-errors';
import type { OrderedUplink } from './http-uplink';
import type { Link } from './link';
import type { Logger, ServerOptions } from './options';
import type { Violation } from './violation';
import { originAllowed, REFUSAL_HEADER } from './policy';

/** An HTTP error answer: the status, our header (so a client knows it was us), an `error` frame. */
export function refuse(
  res: ServerResponse,
  status: number,
  code: WireErrorCode,
  message: string,
  tag: string = code,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent) return void res.end();
  res
    .writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', [REFUSAL_HEADER]: tag, ...headers })
    .end(encodeFrame.error(code, message, status));
}

/** One HTTP link: the SSE response, or the long-poll mailbox between polls. */
export interface HttpLink<C extends Receiver = Receiver> extends Link {
  conn?: C;
  /** Takes no more uplink: closed by the session, or gone. */
  closed: boolean;
  gone: boolean;
  grace?: ReturnType<typeof setTimeout>;
  /** Protocol 3: the uplink's numbered POSTs, put back in order. */
  up?: OrderedUplink;
  /**
   * Long-polling only: a poll arrived for this link; `read`, its `r`: how many of the link's
   * answers its client read whole (docs/protocol.md §2.3), absent from older clients.
   */
  poll?(res: ServerResponse, read?: string | null): void;
  /** Ends the link for a shutting-down server. */
  drop(): void;
  /** Clears the link's timers once it is gone. */
  free(): void;
}

/** What an uplink needs of a session (`Connection`). */
export interface Receiver {
  readonly id: string;
  /** The client polled `link`: alive, though it sent no frames (long-polling, docs/protocol.md §5). */
  polled(link: Link): void;
  admit(): Violation | undefined;
  receive(link: Link, frames: Frame[], textBytes: number): Violation | undefined;
}

/**
 * Hands one uplink transport message to the session of `link`, and answers the POST: 204, or
 * the error that also ends the link (a rate over the limit, a broken protocol).
 */
export function deliverUplink(res: ServerResponse, link: HttpLink, text: string, logger: Logger): void {
  const conn = link.conn!;
  const limited = conn.admit();
  if (limited) {
    logger.warn(`closing ${link.rung} link: ${limited.message}`, { session: conn.id });
    refuse(res, 429, limited.code, limited.message, limited.code, { 'Retry-After': '1' });
    return link.close(limited.closeCode, limited.message);
  }
  let frames: Frame[];
  try {
    frames = decode(text);
  } catch (e) {
    return refuse(res, 400, 'protocol_error', `malformed frame: ${(e as Error).message}`);
  }
  const problem = conn.receive(link, frames, text.length);
  if (problem) {
    logger.warn(`closing ${link.rung} link: ${problem.message}`, { session: conn.id });
    refuse(res, problem.code === 'too_large' ? 413 : 400, problem.code, problem.message);
    return link.close(problem.closeCode, problem.message);
  }
  res.writeHead(204).end();
}

/**
 * What every request to the endpoint goes through before its rung sees it: the origin policy,
 * CORS, a WebSocket handshake that lost its `Upgrade`, and preflights. True when it answered.
 */
export function screen(req: IncomingMessage, res: ServerResponse, allowed: ServerOptions['allowedOrigins'], logger: Logger): boolean {
  const origin = req.headers.origin;
  res.setHeader('Vary', 'Origin');
  if (!originAllowed(req, allowed, logger)) {
    logger.warn('refused an HTTP request from a foreign origin', { origin });
    refuse(res, 403, 'forbidden_origin', 'origin not allowed', 'origin');
    return true;
  }
  // CORS only for an allow-list: without one we echo no Origin, so a page on another site cannot
  // read our answers (socket.io sends no CORS header by default either). Same-origin pages need
  // none, and the allow-list is the app's way of naming the cross-origin pages it serves.
  if (origin && allowed) {
    res.setHeader('Access-Control-Allow-Origin', origin);
    res.setHeader('Access-Control-Expose-Headers', REFUSAL_HEADER);
  }
  // A WebSocket handshake here, not at 'upgrade': a proxy that does not know WebSocket dropped
  // the hop-by-hop `Upgrade` (or the `upgrade` token of `Connection`, RFC 9110 §7.6.1) and
  // forwarded a plain GET. That is the network's doing, not a refusal of ours: a distinct tag
  // lets the client say so and fall through to the HTTP rungs. 426 must name the protocol
  // wanted (RFC 9110 §15.5.22).
  if (req.headers['sec-websocket-key'] !== undefined) {
    logger.warn('a WebSocket upgrade arrived as a plain request: a proxy removed its Upgrade header', {
      upgrade: req.headers.upgrade,
      connection: req.headers.connection,
      via: req.headers.via,
    });
    res.setHeader('Upgrade', 'websocket');
    refuse(res, 426, 'upgrade_stripped', 'the WebSocket upgrade arrived without its Upgrade header (removed by a proxy)');
    return true;
  }
  if (req.method === 'OPTIONS') {
    res
      .writeHead(204, {
        'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
        // Only an allowed origin gets this far with CORS at all; it may send what headers it needs.
        'Access-Control-Allow-Headers': req.headers['access-control-request-headers'] ?? 'Content-Type',
        'Access-Control-Max-Age': '600',
      })
      .end();
    return true;
  }
  return false;
}

/**
 * Reads a request body, bounded in size and in time: a slow-drip body stayed open for 100 s
 * and more, since Node allows 300 s (issue 16, item 11). Resolves with the text, or undefined
 * once the request was answered (413, 408).
 */
export function readBody(req: IncomingMessage, res: ServerResponse, limit: number, deadlineMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const closeAfter = (status: number, code: WireErrorCode, message: string) => {
      clearTimeout(timer);
      // The rest of the body is not worth reading: answer, then drop the connection.
      res.once('finish', () => req.destroy());
      refuse(res, status, code, message, code, { Connection: 'close' });
      resolve(undefined);
    };
    if (Number(req.headers['content-length']) > limit) return closeAfter(413, 'too_large', `request body exceeds ${limit} bytes`);
    timer = setTimeout(() => closeAfter(408, 'request_timeout', `request body not complete within ${deadlineMs} ms`), deadlineMs);
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (c: Buffer) => {
      if (over) return;
      if ((size += c.length) > limit) {
        over = true;
        closeAfter(413, 'too_large', `request body exceeds ${limit} bytes`);
      } else chunks.push(c);
    });
    req.on('end', () => {
      clearTimeout(timer);
      if (!over && !res.headersSent) resolve(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('close', () => clearTimeout(timer));
  });
}
