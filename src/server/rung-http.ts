import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApiShape } from '../protocol/api';
import type { RungName } from '../protocol/api';
import { CloseCode } from '../protocol/close-codes';
import { decode } from '../protocol/codec';
import type { Frame, HelloFrame } from '../protocol/frames';
import { encodeFrame, joinFrames } from '../protocol/encode';
import type { WireErrorCode } from '../protocol/wire-errors';
import type { Hub } from './hub';
import type { Link } from './link';
import type { ResolvedServerOptions, ServerOptions } from './options';
import { originAllowed, REFUSAL_HEADER, sameSecret } from './policy';
import type { Connection } from './session';

const GREET = encodeFrame.greet();
/** Idle-cutting proxies commonly give up after 30–60 s of silence. */
const KEEPALIVE_MS = 15_000;
/** Below the common 30 s idle cuts, so an empty answer comes back before a proxy drops the poll. */
const HOLD_MS = 25_000;
/**
 * A link replaced by a resume elsewhere says bye only after this long. The client that moved
 * drops it itself; told at once, it could hear the bye before the new rung's welcome (both leave
 * in the same tick) and take its climb to a better rung for a lost connection.
 */
const REPLACED_GRACE_MS = 2000;

function refuse(res: ServerResponse, status: number, code: WireErrorCode, message: string, tag: string = code): void {
  if (res.headersSent) return void res.end();
  res
    .writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', [REFUSAL_HEADER]: tag })
    .end(encodeFrame.error(code, message, status));
}


/** One HTTP link: the SSE response, or the long-poll mailbox between polls. */
interface HttpLink<C> extends Link {
  conn?: C;
  /** Takes no more uplink: closed by the session, or gone. */
  closed: boolean;
  gone: boolean;
  grace?: ReturnType<typeof setTimeout>;
  /** Long-polling only: a poll arrived for this link. */
  poll?(res: ServerResponse): void;
  /** Ends the link for a shutting-down server. */
  drop(): void;
  /** Clears the link's timers once it is gone. */
  free(): void;
}

/**
 * The `sse` and `longpoll` rungs. Both share the WebSocket path and tell themselves apart by the
 * query parameter `t`; uplink is a POST naming the session, routed to its current HTTP link.
 */
export class HttpRung<Api extends ApiShape, User> {
  #hub: Hub<Api, User>;
  #opts: ResolvedServerOptions;
  #allowed: ServerOptions['allowedOrigins'];
  /**
   * The newest HTTP link of each session, per rung (`sid rung`): uplink POSTs name their rung,
   * and a client only ever speaks on its newest connection of a kind.
   */
  #links = new Map<string, HttpLink<Connection<Api, User>>>();
  /** Every live link, attached or still opening, for `close()`. */
  #live = new Set<HttpLink<Connection<Api, User>>>();
  #closed = false;

  constructor(hub: Hub<Api, User>, opts: ResolvedServerOptions, allowed: ServerOptions['allowedOrigins']) {
    this.#hub = hub;
    this.#opts = opts;
    this.#allowed = allowed;
  }

  /** Handles one request to the endpoint path. Never throws; a bad request touches no other session. */
  handle(req: IncomingMessage, res: ServerResponse): void {
    req.on('error', () => {});
    res.on('error', () => {});
    try {
      const origin = req.headers.origin;
      res.setHeader('Vary', 'Origin');
      if (!originAllowed(req, this.#allowed, this.#opts.logger)) {
        this.#opts.logger.warn('refused an HTTP request from a foreign origin', { origin });
        return refuse(res, 403, 'forbidden_origin', 'origin not allowed', 'origin');
      }
      if (origin) {
        res.setHeader('Access-Control-Allow-Origin', origin);
        res.setHeader('Access-Control-Expose-Headers', REFUSAL_HEADER);
      }
      // A WebSocket handshake here, not at 'upgrade': a proxy that does not know WebSocket dropped
      // the hop-by-hop `Upgrade` (or the `upgrade` token of `Connection`, RFC 9110 §7.6.1) and
      // forwarded a plain GET. That is the network's doing, not a refusal of ours: a distinct tag
      // lets the client say so and fall through to the HTTP rungs. 426 must name the protocol
      // wanted (RFC 9110 §15.5.22).
      if (req.headers['sec-websocket-key'] !== undefined) {
        this.#opts.logger.warn('a WebSocket upgrade arrived as a plain request: a proxy removed its Upgrade header', {
          upgrade: req.headers.upgrade,
          connection: req.headers.connection,
          via: req.headers.via,
        });
        res.setHeader('Upgrade', 'websocket');
        return refuse(res, 426, 'upgrade_stripped', 'the WebSocket upgrade arrived without its Upgrade header (removed by a proxy)');
      }
      if (req.method === 'OPTIONS') {
        res
          .writeHead(204, {
            'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
            'Access-Control-Allow-Headers': req.headers['access-control-request-headers'] ?? 'Content-Type',
            'Access-Control-Max-Age': '600',
          })
          .end();
        return;
      }
      const q = new URL(req.url ?? '/', 'http://x').searchParams;
      const t = q.get('t');
      if (t !== 'sse' && t !== 'lp') return refuse(res, 400, 'bad_request', 'query parameter t must be sse or lp');
      const rung = t === 'sse' ? 'sse' : 'longpoll';
      if (req.method === 'POST') return this.#post(req, res, `${q.get('sid')} ${rung}`);
      if (req.method !== 'GET') return refuse(res, 405, 'bad_method', `${req.method} is not used here`);
      const helloText = q.get('hello');
      if (helloText === null) {
        if (t === 'lp') return this.#poll(res, `${q.get('sid')} ${rung}`, q.get('key'));
        return refuse(res, 400, 'bad_request', 'no hello');
      }
      let hello: Frame | undefined;
      try {
        const frames = decode(helloText);
        if (frames.length === 1) hello = frames[0];
      } catch {
        /* answered below */
      }
      if (hello?.t !== 'hello') return refuse(res, 400, 'bad_hello', 'the hello parameter must be one hello frame');
      if (t === 'sse') this.#sse(req, res, hello);
      else this.#openPoll(req, res, hello);
    } catch (err) {
      this.#opts.logger.warn(`HTTP request failed: ${String(err)}`, { url: req.url });
      refuse(res, 500, 'server_error', 'the server failed');
    }
  }

  close(): void {
    this.#closed = true;
    for (const l of [...this.#live]) l.drop();
    this.#links.clear();
  }

  #sse(req: IncomingMessage, res: ServerResponse, hello: HelloFrame): void {
    req.socket.setNoDelay(true);
    res.writeHead(200, {
      'Content-Type': 'text/event-stream',
      'Cache-Control': 'no-cache, no-transform',
      'X-Accel-Buffering': 'no',
      Connection: 'keep-alive',
    });
    res.flushHeaders();
    const write = (text: string) => void (res.writableEnded || res.write(`data: ${text}\n\n`));
    const end = () => {
      link.closed = true;
      res.end();
    };
    const link = this.#link('sse', write, (code, reason) => {
      write(encodeFrame.bye(code, reason));
      end();
    });
    // Greet before any authentication work, as on WebSocket: silence then means a broken path.
    write(GREET);
    const ka = setInterval(() => res.writableEnded || res.write(': ka\n\n'), KEEPALIVE_MS);
    link.drop = end;
    link.free = () => clearInterval(ka);
    res.on('close', () => this.#gone(link));
    this.#hello(hello, req, link, (text) => {
      write(text);
      end();
    });
  }

  #openPoll(req: IncomingMessage, res: ServerResponse, hello: HelloFrame): void {
    const idleMs = 2 * this.#opts.heartbeatMs + 5000;
    // The greeting leads the first answer; the open itself is a poll held until the hello is done.
    let pending: string[] = [GREET];
    let held: ServerResponse | undefined = res;
    let opening = true;
    let holdTimer: ReturnType<typeof setTimeout> | undefined;
    let idleTimer: ReturnType<typeof setTimeout> | undefined;
    const answer = () => {
      const r = held!;
      held = undefined;
      clearTimeout(holdTimer);
      r.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' }).end(`[${joinFrames(pending)}]`);
      pending = [];
      if (link.closed) return this.#gone(link);
      // Not polled again in time: the client is gone, like a WebSocket that missed its heartbeats.
      idleTimer = setTimeout(() => this.#gone(link), idleMs);
    };
    const hold = (r: ServerResponse) => {
      clearTimeout(idleTimer);
      held = r;
      r.on('close', () => {
        if (held !== r) return;
        held = undefined;
        clearTimeout(holdTimer);
        idleTimer = setTimeout(() => this.#gone(link), idleMs);
      });
    };
    const send = (text: string) => {
      pending.push(text);
      if (held && !opening) answer();
    };
    const link = this.#link('longpoll', send, (code, reason) => {
      if (link.closed) return;
      link.closed = true; // first: the answer that carries the bye is the link's last
      send(encodeFrame.bye(code, reason));
    });
    link.poll = (r) => {
      // One poll per session: the older one goes back empty so the client's newer one wins.
      if (held) answer();
      hold(r);
      if (pending.length || link.closed) return answer();
      holdTimer = setTimeout(answer, HOLD_MS);
    };
    link.drop = () => {
      link.closed = true;
      if (held) answer();
      this.#gone(link);
    };
    link.free = () => {
      clearTimeout(idleTimer);
      clearTimeout(holdTimer);
    };
    hold(res);
    this.#hello(hello, req, link, (text) => {
      link.closed = true;
      send(text);
    })
      .then(() => {
        opening = false;
        if (held) answer();
      })
      .catch((err: unknown) => this.#opts.logger.warn(`long-poll open failed: ${String(err)}`));
  }

  #link(rung: RungName, send: (text: string) => void, close: (code: number, reason: string) => void): HttpLink<Connection<Api, User>> {
    const link: HttpLink<Connection<Api, User>> = {
      rung,
      send,
      // Until the grace ends, stragglers still POST here: `receive` ignores them, as on WebSocket.
      close: (code, reason) =>
        code === CloseCode.Replaced ? (link.grace ??= setTimeout(() => close(code, reason), REPLACED_GRACE_MS)) : close(code, reason),
      closed: false,
      gone: false,
      drop() {},
      free() {},
    };
    this.#live.add(link);
    return link;
  }

  /** Runs the hello; `refusal` gets the error frame to send before the link ends. */
  #hello(hello: HelloFrame, req: IncomingMessage, link: HttpLink<Connection<Api, User>>, refusal: (text: string) => void): Promise<void> {
    return this.#hub.hello(hello, req, link).then(
      (o) => {
        if (link.gone) {
          // The client left while `authenticate` ran; after shutdown nobody will resume it.
          if (o.ok) this.#closed ? o.conn.close(CloseCode.GoingAway, 'server shutting down') : o.conn.detach(link, false);
          return;
        }
        if (!o.ok) return refusal(encodeFrame.error(o.code, o.message, o.status));
        link.conn = o.conn;
        if (!link.closed) this.#links.set(`${o.conn.id} ${link.rung}`, link);
      },
      (err: unknown) => {
        this.#opts.logger.warn(`hello failed: ${String(err)}`);
        if (!link.gone) refusal(encodeFrame.error('server_error', `hello failed: ${String(err)}`));
      },
    );
  }

  #gone(link: HttpLink<Connection<Api, User>>): void {
    if (link.gone) return;
    link.gone = link.closed = true;
    link.free();
    clearTimeout(link.grace);
    this.#live.delete(link);
    const c = link.conn;
    if (!c) return;
    const k = `${c.id} ${link.rung}`;
    if (this.#links.get(k) === link) this.#links.delete(k);
    c.detach(link, false);
  }

  /** The session's current HTTP link, if `key` is its secret. */
  #find(sid: string, key: string | null): HttpLink<Connection<Api, User>> | undefined {
    const link = this.#links.get(sid);
    return link && !link.closed && key !== null && sameSecret(key, link.conn!.key) ? link : undefined;
  }

  #unknown(res: ServerResponse): void {
    refuse(res, 404, 'session_unknown', 'no such session on an HTTP rung (expired, replaced, or a wrong key)', 'session');
  }

  #poll(res: ServerResponse, sid: string, key: string | null): void {
    const link = this.#links.get(sid);
    // A closed link still answers one poll: its bye is waiting there.
    if (!link?.poll || key === null || !sameSecret(key, link.conn!.key)) return this.#unknown(res);
    link.poll(res);
  }

  #post(req: IncomingMessage, res: ServerResponse, sid: string): void {
    // A client batch is at most the message limit; the slack covers the envelope around it.
    const limit = this.#opts.maxMessageBytes + 64 * 1024;
    const tooLarge = () => {
      res.setHeader('Connection', 'close');
      refuse(res, 413, 'too_large', `request body exceeds ${limit} bytes`);
    };
    if (Number(req.headers['content-length']) > limit) return tooLarge();
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      if (size > limit) return;
      if ((size += c.length) > limit) tooLarge();
      else chunks.push(c);
    });
    req.on('end', () => {
      if (size > limit) return;
      try {
        this.#uplink(res, sid, Buffer.concat(chunks).toString('utf8'));
      } catch (err) {
        this.#opts.logger.warn(`HTTP uplink failed: ${String(err)}`);
        refuse(res, 500, 'server_error', 'the server failed');
      }
    });
  }

  #uplink(res: ServerResponse, sid: string, body: string): void {
    const nl = body.indexOf('\n');
    const link = this.#find(sid, nl < 0 ? null : body.slice(0, nl));
    if (!link) return this.#unknown(res);
    const text = body.slice(nl + 1);
    let frames: Frame[];
    try {
      frames = decode(text);
    } catch (e) {
      return refuse(res, 400, 'protocol_error', `malformed frame: ${(e as Error).message}`);
    }
    const problem = link.conn!.receive(link, frames, text.length);
    if (problem) {
      this.#opts.logger.warn(`closing ${link.rung} link: ${problem.message}`, { session: link.conn!.id });
      refuse(res, problem.code === 'too_large' ? 413 : 400, problem.code, problem.message);
      link.close(problem.closeCode, problem.message);
      return;
    }
    res.writeHead(204).end();
  }
}
