import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApiShape } from '../protocol/api';
import type { RungName } from '../protocol/api';
import { CloseCode } from '../protocol/close-codes';
import type { HelloFrame } from '../protocol/frames';
import { encodeFrame } from './codec';
import { openPoll, openSse, type DownlinkHost } from './http-downlinks';
import type { Hub } from './hub';
import { deliverUplink, readBody, refuse, screen, type HttpLink } from './http-answers';
import { parseHello, Tickets } from './http-tickets';
import { orderedUplink, receiveOrdered, releaseHeld, uplinkId } from './http-uplink';
import { acceptForwarded, forward, Forwarder, routeElsewhere, type RequestRoutes } from './http-forward';
import { LIMITS } from '../protocol/limits';
import type { AddressLimiter } from './limits';
import type { ResolvedServerOptions, ServerOptions } from './options';
import { sameSecret } from './policy';
import type { Connection } from './session';

/**
 * How much longer than a body may take a gap in the uplink may stay open: the client retries a
 * failed POST within about 1.5 s, and a POST that is still arriving has the body deadline.
 */
const UPLINK_SLACK_MS = 2000;
/**
 * A link replaced by a resume elsewhere says bye only after this long. The client that moved
 * drops it itself; told at once, it could hear the bye before the new rung's welcome (both leave
 * in the same tick) and take its climb to a better rung for a lost connection.
 */
const REPLACED_GRACE_MS = 2000;
/**
 * How long a resume's open forwarded to the node holding the session's live link waits for that
 * node's answer head before it is taken over here: well within the client's 5 s open timeout,
 * and time enough for a loaded node's `authenticate`.
 */
const OPEN_ELSEWHERE_MS = 1500;

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
  /** What the downlinks (src/server/http-downlinks.ts) need of the rung. */
  #host: DownlinkHost<HttpLink<Connection<Api, User>>>;
  #opens: AddressLimiter;
  #tickets: Tickets;
  /** With a store that routes requests (Redis): uplinks and polls go to the node holding the link. */
  #routes: RequestRoutes | undefined;
  /** Kept-alive connections to the other nodes, for the requests forwarded there. */
  #forwarder = new Forwarder();

  constructor(hub: Hub<Api, User>, opts: ResolvedServerOptions, allowed: ServerOptions['allowedOrigins'], opens: AddressLimiter, routes?: RequestRoutes) {
    this.#routes = routes;
    this.#tickets = new Tickets(routes?.nodeId);
    this.#opens = opens;
    this.#hub = hub;
    this.#opts = opts;
    this.#allowed = allowed;
    this.#host = {
      opts,
      link: (rung, send, sendFrames, close) => this.#link(rung, send, sendFrames, close),
      hello: (hello, req, link, refusal) => this.#hello(hello, req, link, refusal),
      gone: (link) => this.#gone(link),
    };
  }

  /** Handles one request to the endpoint path. Never throws; a bad request touches no other session. */
  handle(req: IncomingMessage, res: ServerResponse): void {
    req.on('error', () => {});
    res.on('error', () => {});
    try {
      const forwarded = !!this.#routes && acceptForwarded(req, this.#routes.secret);
      if (screen(req, res, this.#allowed, this.#opts.logger)) return;
      const q = new URL(req.url ?? '/', 'http://x').searchParams;
      const t = q.get('t');
      if (t !== 'sse' && t !== 'lp') return refuse(res, 400, 'bad_request', 'query parameter t must be sse or lp');
      const rung = t === 'sse' ? 'sse' : 'longpoll';
      // A request forwarded here is answered here: it never travels twice.
      // What the node it goes to reads of it: an uplink batch, else (a poll's key, a GET) an id.
      const limit = req.method === 'POST' && !q.has('poll') ? this.#bodyLimit() : LIMITS.id;
      if (this.#routes && !forwarded && routeElsewhere(req, res, q, rung, this.#routes, this.#forwarder, (k) => this.#links.has(k), () => this.#dispatch(req, res, q, t, rung), limit, (m) => this.#opts.logger.warn(m))) return;
      this.#dispatch(req, res, q, t, rung, forwarded);
    } catch (err) {
      this.#opts.logger.warn(`HTTP request failed: ${String(err)}`, { url: req.url });
      refuse(res, 500, 'server_error', 'the server failed');
    }
  }

  #dispatch(req: IncomingMessage, res: ServerResponse, q: URLSearchParams, t: 'sse' | 'lp', rung: RungName, forwarded = false): void {
    try {
      if (req.isPaused()) req.resume(); // paused while routeElsewhere asked where it belongs
      const sid = q.get('sid');
      const remote = req.socket.remoteAddress;
      if (req.method === 'POST') {
        if (sid === null) return this.#open(req, res, q, rung, forwarded); // v3: the open answers; v2: a ticket
        if (q.has('poll') && rung === 'longpoll') return this.#bodyPoll(req, res, `${sid} ${rung}`, q.get('r')); // v2, v3: poll
        return this.#post(req, res, q, `${sid} ${rung}`);
      }
      if (req.method !== 'GET') return refuse(res, 405, 'bad_method', `${req.method} is not used here`);
      const ticket = q.get('ticket');
      let hello: HelloFrame | undefined;
      if (ticket !== null) {
        hello = this.#tickets.take(ticket, rung, remote);
        if (!hello) return refuse(res, 404, 'ticket_unknown', 'no such ticket: used, expired, or for another rung or address');
      } else {
        // Protocol v1: the hello in the URL, and polls with the key in the URL. Kept for v1
        // clients; v2 and v3 clients never send either (their hello travels in a POST body).
        const helloText = q.get('hello');
        if (helloText === null) {
          if (t === 'lp') return this.#poll(res, `${sid} ${rung}`, q.get('key'));
          return refuse(res, 400, 'bad_request', 'no hello and no ticket');
        }
        hello = parseHello(helloText);
        if (hello?.v !== 1) return refuse(res, 400, 'bad_hello', 'the hello parameter must be one protocol 1 hello frame (protocol 2 opens with a POST)');
        if (!this.#opens.allow(remote)) return this.#busy(res, rung, remote);
      }
      this.#downlink(req, res, hello, rung);
    } catch (err) {
      this.#opts.logger.error(`HTTP request failed: ${String(err)}`, { url: req.url });
      refuse(res, 500, 'server_error', 'the server failed');
    }
  }

  /**
   * The open, a POST whose body is the hello. Protocol 3: its answer is the downlink itself (the
   * event stream, or the first poll's answer), one round trip less on a fallback. Protocol 2:
   * its answer is a single-use ticket for the downlink GET.
   */
  #open(req: IncomingMessage, res: ServerResponse, q: URLSearchParams, rung: RungName, forwarded: boolean): void {
    const remote = req.socket.remoteAddress;
    if (!this.#opens.allow(remote)) return this.#busy(res, rung, remote);
    readBody(req, res, LIMITS.hello, this.#opts.bodyTimeoutMs)
      .then(async (body) => {
        if (body === undefined) return;
        const hello = parseHello(body);
        if (!hello) return refuse(res, 400, 'bad_hello', 'the body must be one hello frame');
        if (hello.v < 3) return this.#tickets.answer(res, hello, rung, remote);
        const here = () => this.#downlink(req, res, hello, rung, uplinkId(q.get('u')));
        // A resume of a session whose live HTTP link is on another node (a climb, a race's second
        // attempt, through a balancer without stickiness) goes there, as the session's POSTs and
        // polls do. Taken over here, the session left its live link at the hello: a climb that
        // never verifies (an event stream a proxy holds back) cut the live link every time it
        // tried (bench/chaos.mjs). There, as on one node, the new link waits beside the live one
        // until the client speaks on it. A node that does not answer within a second or two (gone,
        // hung) does not hold the client back: the session is taken over here, as before.
        const routes = this.#routes, sid = hello.sid;
        if (!routes?.secret || forwarded || !sid || this.#hub.sessions.has(sid)) return here();
        const base = await routes.owner(sid).catch(() => undefined);
        if (!base || res.destroyed) return here();
        forward(req, res, base, routes.secret, this.#forwarder, LIMITS.hello, { body, local: here, headMs: Math.min(OPEN_ELSEWHERE_MS, this.#opts.helloTimeoutMs) });
      })
      // Out of `handle`'s try now: a failure here must still answer, never go unhandled.
      .catch((err: unknown) => {
        this.#opts.logger.error(`HTTP open failed: ${String(err)}`, { url: req.url });
        refuse(res, 500, 'server_error', 'the server failed');
      });
  }

  #downlink(req: IncomingMessage, res: ServerResponse, hello: HelloFrame, rung: RungName, up?: string): void {
    const link = (rung === 'sse' ? openSse : openPoll)(this.#host, req, res, hello);
    if (up) link.up = orderedUplink(up, this.#bodyLimit());
  }

  /** A client batch is at most the message limit; the slack covers the envelope around it. */
  #bodyLimit(): number {
    return this.#opts.maxMessageBytes + 64 * 1024;
  }

  /** A poll (v2, v3): a POST whose body is the session key, so the key is in no URL; `read`: its `r` (§2.3). */
  #bodyPoll(req: IncomingMessage, res: ServerResponse, sid: string, read: string | null): void {
    void readBody(req, res, LIMITS.id, this.#opts.bodyTimeoutMs).then((key) => key !== undefined && this.#poll(res, sid, key, read));
  }

  #busy(res: ServerResponse, rung: RungName, remote: string | undefined): void {
    this.#opts.logger.warn(`refused an ${rung} open: too many connections from one address`, { remote });
    refuse(res, 429, 'rate_limited', 'too many connections from this address', 'rate_limited', { 'Retry-After': '1' });
  }

  close(): void {
    for (const l of [...this.#live]) l.drop();
    this.#links.clear();
    this.#forwarder.close();
  }



  #link(rung: RungName, send: (text: string) => void, sendFrames: (parts: readonly string[]) => void, close: (code: number, reason: string) => void): HttpLink<Connection<Api, User>> {
    const link: HttpLink<Connection<Api, User>> = {
      rung,
      send,
      sendFrames,
      // Until the grace ends, stragglers still POST here: `receive` ignores them, as on WebSocket.
      close: (code, reason) => {
        if (code !== CloseCode.Replaced) return close(code, reason);
        // Moved to another node (its session ended here): requests for the session are that
        // node's from now on. Behind a balancer without stickiness the new link's POSTs and polls
        // land here too, and must be forwarded there, not answered by this link (a 404 for a
        // POST, its bye for a poll: the client gave its new link up and moved the session again).
        if (link.conn?.closed) this.#unroute(link);
        link.grace ??= setTimeout(() => close(code, reason), REPLACED_GRACE_MS);
      },
      closed: false,
      gone: false,
      abandoned: () => link.gone,
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
          // The client left while `authenticate` ran: the session waits for its resume. (Not ended
          // on shutdown: the hub adds no session once the server closes, and a session ended here
          // would drop its record that the client's next node takes over.)
          if (o.ok) o.conn.detach(link, false);
          return;
        }
        if (!o.ok) return refusal(encodeFrame.error(o.code, o.message, o.status));
        link.conn = o.conn;
        if (!link.closed) {
          this.#links.set(`${o.conn.id} ${link.rung}`, link);
          this.#routes?.own(o.conn.id, true);
        }
      },
      (err: unknown) => {
        this.#opts.logger.error(`hello failed: ${String(err)}`);
        if (!link.gone) refusal(encodeFrame.error('server_error', `hello failed: ${String(err)}`));
      },
    );
  }

  #gone(link: HttpLink<Connection<Api, User>>): void {
    if (link.gone) return;
    link.gone = link.closed = true;
    link.free();
    if (link.up) releaseHeld(link.up, link);
    clearTimeout(link.grace);
    this.#live.delete(link);
    this.#unroute(link);
    link.conn?.detach(link, false);
  }

  /** `link` no longer takes the session's requests here: they go to whichever node holds it now. */
  #unroute(link: HttpLink<Connection<Api, User>>): void {
    const c = link.conn;
    if (!c) return;
    const k = `${c.id} ${link.rung}`;
    if (this.#links.get(k) !== link) return;
    this.#links.delete(k);
    if (!this.#links.has(`${c.id} sse`) && !this.#links.has(`${c.id} longpoll`)) this.#routes?.own(c.id, false);
  }

  /** The session's current HTTP link, if `key` is its secret. */
  #find(sid: string, key: string | null): HttpLink<Connection<Api, User>> | undefined {
    const link = this.#links.get(sid);
    return link && !link.closed && key !== null && sameSecret(key, link.conn!.key) ? link : undefined;
  }

  #unknown(res: ServerResponse): void {
    refuse(res, 404, 'session_unknown', 'no such session on an HTTP rung (expired, replaced, or a wrong key)', 'session');
  }

  #poll(res: ServerResponse, sid: string, key: string | null, read?: string | null): void {
    const link = this.#links.get(sid);
    // A closed link still answers one poll: its bye is waiting there.
    if (!link?.poll || key === null || !sameSecret(key, link.conn!.key)) return this.#unknown(res);
    link.poll(res, read);
  }

  #post(req: IncomingMessage, res: ServerResponse, q: URLSearchParams, sid: string): void {
    readBody(req, res, this.#bodyLimit(), this.#opts.bodyTimeoutMs)
      .then((body) => body !== undefined && this.#uplink(res, q, sid, body))
      .catch((err: unknown) => {
        this.#opts.logger.error(`HTTP uplink failed: ${String(err)}`);
        refuse(res, 500, 'server_error', 'the server failed');
      });
  }

  #uplink(res: ServerResponse, q: URLSearchParams, sid: string, body: string): void {
    const nl = body.indexOf('\n');
    const link = this.#find(sid, nl < 0 ? null : body.slice(0, nl));
    const u = q.get('u');
    // A numbered POST of an earlier transport of this session (its uplink id differs) comes too
    // late: that transport is gone, and its successor sends again whatever was not acknowledged.
    if (!link || (u !== null && u !== link.up?.id)) return this.#unknown(res);
    const text = body.slice(nl + 1);
    if (u === null) return deliverUplink(res, link, text, this.#opts.logger); // protocol 2: one at a time
    receiveOrdered(res, link, link.up!, q.get('n'), text, { logger: this.#opts.logger, deadlineMs: this.#opts.bodyTimeoutMs + UPLINK_SLACK_MS });
  }
}
