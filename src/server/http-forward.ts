import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { Agent, request, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import { refuse } from './http-answers';

/**
 * Where HTTP-rung requests of sessions on other nodes go (a store's `routes`). WebSocket needs
 * none: a link is one TCP connection, and a resume moves the session to it. An HTTP session is
 * many requests, and a balancer without stickiness spreads them over every node: the downlink
 * (an SSE stream, a held poll) lives on the node that opened it, so its uplink POSTs and polls
 * are forwarded there (docs/scaling.md §4).
 */
export interface RequestRoutes {
  /** This node, as tickets name it (`{node}.{random}`). */
  readonly nodeId: string;
  /** The secret nodes prove themselves with to each other (shared through the store); undefined until known. */
  readonly secret: string | undefined;
  /** This node listens at `url` (an `http://host:port` other nodes can reach). */
  announce(url: string): Promise<void>;
  /** The address of node `id`. */
  node(id: string): Promise<string | undefined>;
  /** The address of the node that holds an HTTP link of session `sid`. */
  owner(sid: string): Promise<string | undefined>;
  /** This node now holds (`true`) or no longer holds an HTTP link of session `sid`. */
  own(sid: string, held: boolean): void;
}

/** Header names of a forwarded request. */
const AUTH = 'x-wirefall-node';
const REMOTE = 'x-wirefall-remote';
/**
 * Hop-by-hop headers (RFC 9110 §7.6.1) do not travel past one connection. `Host` is not one: the
 * node the request is forwarded to runs `authenticate` on it (a protocol 2 ticket GET), and an
 * app that reads `Host` (a tenant per domain) must see the client's, not this node's address.
 */
const HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection', 'proxy-authorization', 'te', 'trailer']);

function strip(h: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined && !HOP.has(k) && k !== AUTH && k !== REMOTE) out[k] = v;
  return out;
}

/**
 * True when `req` was forwarded by another node (it proves the shared secret). Its client's
 * address then stands in for the forwarding node's on the socket, so tickets, race tokens,
 * per-address limits and `authenticate` see the client. Nodes forward over kept-alive connections
 * (`Forwarder`), so one socket carries the requests of many clients, one after another: an HTTP
 * agent sends the next request on a socket only once the last answer has ended, so the address set
 * here is that of the request being handled. A request that does not prove the secret takes the
 * socket's own address back.
 */
export function acceptForwarded(req: IncomingMessage, secret: string | undefined): boolean {
  const socket = req.socket;
  if (Object.hasOwn(socket, 'remoteAddress')) delete (socket as { remoteAddress?: string }).remoteAddress;
  const proof = req.headers[AUTH];
  if (typeof proof !== 'string' || !secret) return false;
  const a = Buffer.from(proof);
  const b = Buffer.from(secret);
  if (a.length !== b.length || !timingSafeEqual(a, b)) return false;
  const remote = req.headers[REMOTE];
  if (typeof remote === 'string') Object.defineProperty(socket, 'remoteAddress', { value: remote, configurable: true });
  return true;
}

/**
 * The connections a node forwards requests over, kept alive between requests. A new TCP
 * connection per forwarded request (as before 2026-12-01) made 300–800 a second under a few
 * thousand idle HTTP-rung clients, each through the other node's listen queue (up to 250 deep),
 * and the capacity run's long-poll probe saw p99 round trips of 1–2 s on a machine at half load
 * (docs/benchmarks.md, "Scale"). Idle connections are closed before the other node's keep-alive
 * timeout would close them under a request (Node from 19 reads it from the answer's `Keep-Alive`
 * header; `timeout` bounds it for older ones).
 */
export class Forwarder {
  readonly #http = new Agent({ keepAlive: true, timeout: 4000 });
  readonly #https = new HttpsAgent({ keepAlive: true, timeout: 4000 });

  /** The agent for requests to `url`. */
  agent(url: URL): Agent {
    return url.protocol === 'https:' ? this.#https : this.#http;
  }

  /** Closes every connection: the node stops. */
  close(): void {
    this.#http.destroy();
    this.#https.destroy();
  }
}

/**
 * A body over the limit is refused here, as the other node would refuse it: sent on, it made that
 * node answer 413 and drop the connection with the rest of the body unread, and the reset that
 * followed often reached this node before the answer did (the client then heard `404
 * session_unknown`, or a reset, for a session that was fine).
 */
function tooLarge(req: IncomingMessage, res: ServerResponse, limit: number): void {
  res.once('finish', () => req.destroy());
  refuse(res, 413, 'too_large', `request body exceeds ${limit} bytes`, 'too_large', { Connection: 'close' });
}

/**
 * An open read here already (its hello names a session held on another node): its `body`, and
 * `local`, which handles it here when that node does not answer its head within `headMs`, or
 * cannot be reached (it died and its record outlived it, it hangs).
 */
export interface ReadOpen {
  body: string;
  local: () => void;
  headMs: number;
}

/**
 * Forwards `req` to the node at `base`, streaming both ways (an SSE stream, a held poll). Its body
 * is at most `limit` bytes (what the other node reads of such a request); with `read`, it was read
 * here already.
 */
export function forward(req: IncomingMessage, res: ServerResponse, base: string, secret: string, via: Forwarder, limit = Infinity, read?: ReadOpen): void {
  if (!read && Number(req.headers['content-length']) > limit) return tooLarge(req, res, limit);
  const headers: Record<string, string | string[]> = { ...strip(req.headers), [AUTH]: secret, [REMOTE]: req.socket.remoteAddress ?? '' };
  if (read) headers['content-length'] = String(Buffer.byteLength(read.body));
  const url = new URL(req.url ?? '/', base);
  // TLS names the node, not the client's Host (Node would take the SNI name, and so the name its
  // certificate is checked against, from the Host header); never an IP address (RFC 6066 §3).
  const open = (agent: Agent | false) => url.protocol === 'https:'
    ? httpsRequest(url, { method: req.method, headers, agent, servername: isIP(url.hostname.replace(/^\[|\]$/g, '')) ? '' : url.hostname })
    : request(url, { method: req.method, headers, agent });
  let up = open(via.agent(url));
  let size = 0;
  /** The body so far, for a second try on a new connection (it is at most `limit` bytes). */
  const body: Buffer[] = read ? [Buffer.from(read.body)] : [];
  /** `read`: the open was handed to `local` (no answer in time, or none at all), once. */
  let handledHere = false;
  const handleHere = () => {
    if (handledHere || res.headersSent || res.destroyed) return;
    handledHere = true;
    clearTimeout(head);
    up.destroy();
    read!.local();
  };
  const head = read ? setTimeout(handleHere, read.headMs) : undefined;
  if (!read) req.on('data', (chunk: Buffer) => {
    body.push(chunk);
    // Refused once: what still arrives before the answer ends the request is dropped.
    if (size > limit || (size += chunk.length) <= limit) return;
    req.unpipe(up);
    up.destroy();
    tooLarge(req, res, limit);
  });
  const send = () => {
    up.on('response', (r) => {
      clearTimeout(head);
      if (handledHere) return void r.destroy();
      res.writeHead(r.statusCode ?? 502, strip(r.headers));
      // An event stream's head goes at once (the client waits on it); any other answer's goes with
      // its body, in one write: sent apart, a poll's answer was two segments, and a hop that
      // delays a small segment behind an unacknowledged one (Nagle) held its body up to 40 ms.
      if (String(r.headers['content-type']).startsWith('text/event-stream')) res.flushHeaders();
      r.pipe(res);
      r.on('error', () => res.destroy());
    });
    up.on('error', (err: NodeJS.ErrnoException) => {
      if (size > limit || handledHere) return; // refused here, or handled here
      // A kept-alive connection the other node closed as this request went out on it: that node
      // never read the request, so it is sent again, once, on a new connection (as Node's docs
      // on `reusedSocket` advise). Otherwise the client would resume a session that is fine.
      if (up.reusedSocket && err.code === 'ECONNRESET' && !res.headersSent && !res.destroyed) {
        req.unpipe(up);
        up = open(false);
        send();
        for (const chunk of body) up.write(chunk);
        if (read || req.readableEnded) up.end();
        else req.pipe(up);
        return;
      }
      if (read) return handleHere();
      // The node went away (killed, restarted): the session is unknown here, as it would be there.
      if (!res.headersSent) refuse(res, 404, 'session_unknown', 'the node that held this session is gone', 'session');
      else res.destroy();
    });
  };
  send();
  res.on('close', () => (clearTimeout(head), up.destroy()));
  if (read) up.end(read.body);
  else req.pipe(up);
}

/**
 * Sends an HTTP-rung request that belongs to another node there: an uplink POST or a poll of a
 * session whose link this node does not hold, a downlink GET with another node's ticket. Returns
 * false when the request is this node's (handle it at once); otherwise it is answered, by the
 * other node or, when no other node has it, by `local` (which then says it is unknown).
 */
export function routeElsewhere(req: IncomingMessage, res: ServerResponse, q: URLSearchParams, rung: string, routes: RequestRoutes, via: Forwarder, holds: (key: string) => boolean, local: () => void, limit = Infinity, warn: (message: string) => void = () => {}): boolean {
  const sid = q.get('sid');
  const ticket = q.get('ticket');
  let where: Promise<string | undefined>;
  if (req.method === 'POST' && sid !== null) {
    if (holds(`${sid} ${rung}`)) return false;
    where = routes.owner(sid);
  } else if (req.method === 'GET' && ticket !== null) {
    const node = ticket.split('.', 1)[0]!;
    if (node === routes.nodeId || !ticket.includes('.')) return false;
    where = routes.node(node);
  } else return false;
  req.pause();
  where.then(
    (base) => {
      if (!base || !routes.secret) return local();
      try {
        forward(req, res, base, routes.secret, via, limit);
      } catch (err) {
        // An address that is no http(s) URL (an `advertise` without its scheme, a corrupt key):
        // thrown here, in a promise callback, it was an unhandled rejection, which ends the process.
        warn(`forwarding a request to the node at ${base} failed (is its advertise an http(s) URL?): ${String(err)}`);
        refuse(res, 404, 'session_unknown', 'the node that holds this session cannot be reached', 'session');
      }
    },
    () => local(),
  );
  return true;
}
