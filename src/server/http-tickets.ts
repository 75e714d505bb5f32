import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { RungName } from '../protocol/api';
import { decode } from './codec';
import type { Frame, HelloFrame } from '../protocol/frames';

/** A ticket is good for this long: the client uses it at once, in the very next request. */
export const TICKET_TTL_MS = 10_000;
/**
 * Most tickets outstanding at once; beyond, the oldest is forgotten. Refusing new ones instead
 * let a flood of opens from many addresses refuse every other client's open (429) while it
 * lasted; a client uses its ticket in its very next request, long before 10,000 newer ones.
 */
const MAX_TICKETS = 10_000;

/** One hello frame from a transport message, or undefined. */
export function parseHello(text: string): HelloFrame | undefined {
  let frames: Frame[];
  try {
    frames = decode(text);
  } catch {
    return undefined;
  }
  return frames.length === 1 && frames[0]!.t === 'hello' ? frames[0] : undefined;
}

/**
 * Protocol v2 keeps every reusable secret out of URLs, which end up in proxy and server logs
 * (issue 16, item 6). The hello, with its `auth` and, on resume, the session key, travels in the
 * body of a POST; the answer is a ticket for the GET that opens the downlink, since a downlink
 * stays a GET (EventSource-like clients and proxies know how to treat it). A ticket is chosen
 * by the server, single-use, good for `TICKET_TTL_MS`, and only for the rung and the address
 * that asked for it: one that leaks in a log is already spent or expired.
 */
export class Tickets {
  // Insertion order is expiry order (one TTL for all), so expired tickets are at the front.
  #tickets = new Map<string, { hello: HelloFrame; rung: RungName; remote: string | undefined; until: number }>();
  /** Names the node that issued a ticket (`{node}.{random}`), so any node can send its GET here. */
  #prefix: string;

  constructor(node?: string) {
    this.#prefix = node ? `${node}.` : '';
  }

  /** Answers a v2 open (a POST whose body is `hello`) with `{"ticket":"…"}`. */
  answer(res: ServerResponse, hello: HelloFrame, rung: RungName, remote: string | undefined): void {
    const ticket = this.issue(hello, rung, remote);
    res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' }).end(JSON.stringify({ ticket }));
  }

  /** A ticket for `hello`. */
  issue(hello: HelloFrame, rung: RungName, remote: string | undefined): string {
    const now = Date.now();
    for (const [id, t] of this.#tickets) {
      if (t.until > now && this.#tickets.size < MAX_TICKETS) break;
      this.#tickets.delete(id);
    }
    const id = this.#prefix + randomBytes(18).toString('base64url');
    this.#tickets.set(id, { hello, rung, remote, until: now + TICKET_TTL_MS });
    return id;
  }

  /** The hello of a ticket, once: a second use, a stale ticket, another rung or address get nothing. */
  take(id: string, rung: RungName, remote: string | undefined): HelloFrame | undefined {
    const t = this.#tickets.get(id);
    this.#tickets.delete(id);
    return t && t.until > Date.now() && t.rung === rung && t.remote === remote ? t.hello : undefined;
  }
}
