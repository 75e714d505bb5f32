import type { ServerResponse } from 'node:http';
import { CloseCode } from '../protocol/close-codes';
import { decode } from './codec';
import { deliverUplink, refuse, type HttpLink } from './http-answers';
import type { Logger } from './options';
import { UplinkOrder } from './uplink-order';

/** One POST held out of order: its answer waits until its message is delivered. */
interface Held {
  res: ServerResponse;
  text: string;
}

/**
 * Numbers accepted ahead of the next expected. The client keeps at most `UPLINK_IN_FLIGHT`
 * (src/transports/http.ts, 4) in flight; twice that leaves room for a client built with another
 * choice without letting one hold much.
 */
export const UPLINK_WINDOW = 8;

/**
 * How long a `bye` held out of order waits for the gap before it: the client is closing, and what
 * it sent before is in flight or in its retries (100 + 200 + 400 + 800 ms). Past this the gap
 * will not fill (a client given up on a POST, or one older than its drain), so the session ends
 * as the bye says, rather than after the gap's deadline and the session's TTL.
 */
export const BYE_GRACE_MS = 2000;

/**
 * True when a held body holds the client's `bye`. A bye ends what its sender sends, so it is the
 * body's last frame: only the tail is searched (a frame with the longest reason, escaped, fits in
 * 1 KiB). Bodies of a burst's parallel POSTs are held whenever they overtake each other, and
 * searching all of each (a quarter of a megabyte) was ~2 % of the server's CPU in such a burst.
 */
function holdsBye(text: string): boolean {
  try {
    return text.includes('"bye"', text.length - 1024) && decode(text).some((f) => f.t === 'bye');
  } catch {
    return false;
  }
}

/** A link's ordered uplink (protocol 3): the client's uplink id, the buffer and its deadline. */
export interface OrderedUplink {
  /** The client's `u`: POSTs of an earlier transport of the same session carry another one. */
  id: string;
  order: UplinkOrder<Held>;
  timer?: ReturnType<typeof setTimeout>;
  /** When `timer` fires (a held bye brings it closer). */
  due?: number;
}

/** The uplink id of a v3 open's query, if it is a sane one (a short token the client chose). */
export function uplinkId(u: string | null): string | undefined {
  return u !== null && /^[\w-]{1,32}$/.test(u) ? u : undefined;
}

export function orderedUplink(id: string, maxBodyBytes: number): OrderedUplink {
  // Three POSTs held behind a missing one is what the client's window allows; four bodies of
  // slack. A bound per link, on top of the per-address bound on links.
  return { id, order: new UplinkOrder({ window: UPLINK_WINDOW, maxBytes: 4 * maxBodyBytes }) };
}

interface Context {
  logger: Logger;
  /** How long a gap may stay open: past it, the POST that fills it is not coming. */
  deadlineMs: number;
}

/**
 * Delivers POST `n` of `link`'s ordered uplink, and whatever it releases, in number order; each
 * POST is answered once its message was delivered (or refused). A gap that outlives the deadline
 * ends the link: the client resumes on a new one and sends again what the server did not ack.
 */
export function receiveOrdered(res: ServerResponse, link: HttpLink, up: OrderedUplink, n: string | null, text: string, ctx: Context): void {
  const offer = up.order.offer(n === null ? NaN : Number(n), { res, text }, text.length);
  switch (offer.kind) {
    case 'done':
      return void res.writeHead(204).end();
    case 'again':
      // The client gave the replaced request up (that is why it sent again): it waits for none.
      return void offer.replaced.res.writeHead(204).end();
    case 'refused':
      ctx.logger.warn(`closing ${link.rung} link: ${offer.reason}`, { session: link.conn?.id });
      refuse(res, 400, 'protocol_error', offer.reason);
      return link.close(CloseCode.ProtocolError, offer.reason);
    case 'held': {
      const ms = holdsBye(text) ? BYE_GRACE_MS : ctx.deadlineMs;
      const now = Date.now();
      if (up.due === undefined || now + ms < up.due) {
        clearTimeout(up.timer);
        up.due = now + ms;
        up.timer = setTimeout(() => expire(link, up, ctx), ms);
      }
      return;
    }
    case 'ready':
      for (const h of offer.items) deliverUplink(h.res, link, h.text, ctx.logger);
      if (!up.order.waiting) {
        clearTimeout(up.timer);
        up.timer = up.due = undefined;
      }
  }
}

function expire(link: HttpLink, up: OrderedUplink, ctx: Context): void {
  // A held bye: the session ended as it says, and closed the link (unless the link was no longer
  // the session's: a straggler's bye changes nothing, and the link still ends here).
  if (releaseHeld(up, link) && link.closed) return;
  const reason = `uplink ${up.order.next} did not arrive within ${ctx.deadlineMs} ms`;
  ctx.logger.warn(`closing ${link.rung} link: ${reason}`, { session: link.conn?.id });
  link.close(CloseCode.ProtocolError, reason);
}

/**
 * Answers what is still held, undelivered (the link ended, or its gap's deadline passed): the
 * client resends what was not acked. A bye among them still ends the session (the client is gone;
 * what it sent before the gap is lost, and its sends rejected `WF_CLOSED`): true then.
 */
export function releaseHeld(up: OrderedUplink, link: HttpLink): boolean {
  clearTimeout(up.timer);
  up.timer = up.due = undefined;
  const held = up.order.drain();
  for (const h of held) refuse(h.res, 409, 'protocol_error', 'the link ended before this POST could be delivered in order');
  if (!link.conn || !held.some((h) => holdsBye(h.text))) return false;
  link.conn.receive(link, [{ t: 'bye', code: CloseCode.Normal }], 0);
  return true;
}
