import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RungName } from '../protocol/api';
import { unbatch, wrapFrames } from '../protocol/encode';
import { encodeFrame } from './codec';
import type { HelloFrame } from '../protocol/frames';
import { refuse, type HttpLink } from './http-answers';
import type { ResolvedServerOptions } from './options';
import { drainSignal } from './link';

const GREET = encodeFrame.greet();
/** Idle-cutting proxies commonly give up after 30–60 s of silence. */
const KEEPALIVE_MS = 15_000;
/** Below the common 30 s idle cuts, so an empty answer comes back before a proxy drops the poll. */
const HOLD_MS = 25_000;

/**
 * How long a client may stay without reading: as long as it may stay silent (two beats and a
 * margin, as for a poll that does not come back). Past it, it is gone.
 */
export const unreadMs = (opts: Pick<ResolvedServerOptions, 'heartbeatMs'>) => 2 * opts.heartbeatMs + 5000;

/**
 * Cuts `res`, ended, if its client has not read all of it within `ms`. Node has no write deadline:
 * an ended response kept what its client did not read (up to `maxBufferedBytes`, and as many
 * answers as a long-poll client leaves unread) for as long as the socket lived, and a peer that
 * stops reading but answers TCP's window probes keeps it alive for ever. What is cut is not lost:
 * the session keeps every message until the client acknowledges it, and resends it on a resume.
 */
export function cutUnread(res: ServerResponse, ms: number): void {
  if (res.writableFinished || res.destroyed) return;
  const timer = setTimeout(() => res.destroy(), ms);
  const clear = () => clearTimeout(timer);
  res.once('finish', clear);
  res.once('close', clear);
}

/**
 * How the two HTTP downlinks are written: an event stream, or a mailbox answered by polls. What
 * they need of the rung that routes requests to them (src/server/rung-http.ts):
 */
export interface DownlinkHost<L extends HttpLink> {
  opts: ResolvedServerOptions;
  /** A new link with the rung's bookkeeping (live set, close grace); `sendFrames` writes a batch's frames. */
  link(rung: RungName, send: (text: string) => void, sendFrames: (parts: readonly string[]) => void, close: (code: number, reason: string) => void): L;
  /** Runs the hello; `refusal` gets the error frame to send before the link ends. */
  hello(hello: HelloFrame, req: IncomingMessage, link: L, refusal: (text: string) => void): Promise<void>;
  /** The link is over: detach it from its session. */
  gone(link: L): void;
}

/** The `sse` downlink on `res`: greeting first, then one event per transport message. */
export function openSse<L extends HttpLink>(host: DownlinkHost<L>, req: IncomingMessage, res: ServerResponse, hello: HelloFrame): L {
  req.socket.setNoDelay(true);
  res.writeHead(200, {
    'Content-Type': 'text/event-stream',
    'Cache-Control': 'no-cache, no-transform',
    'X-Accel-Buffering': 'no',
    Connection: 'keep-alive',
  });
  res.flushHeaders();
  // Flow control, as on WebSocket (rung-websocket.ts): a write that left lets messages flow again.
  const drain = drainSignal(() => res.writableLength);
  const put = (event: string) => {
    if (res.writableEnded || res.destroyed) return;
    res.write(event, drain.sent);
    // A reader that stopped reading: what we write piles up here (116 MB in a ping flood).
    if (res.writableLength > host.opts.maxBufferedBytes) {
      host.opts.logger.warn(`closing a slow reader: ${res.writableLength} bytes unread`, { session: link.conn?.id });
      host.opts.metrics?.refused('slow_reader');
      link.closed = true;
      res.destroy();
    }
  };
  const write = (text: string) => put(`data: ${text}\n\n`);
  const end = () => {
    link.closed = true;
    res.end();
    cutUnread(res, unreadMs(host.opts));
  };
  const frames = (parts: readonly string[]) => put(parts.length === 1 ? `data: ${parts[0]}\n\n` : wrapFrames('data: [', parts, ']\n\n'));
  const link = host.link('sse', write, frames, (code, reason) => {
    write(encodeFrame.bye(code, reason));
    end();
  });
  // Greet before any authentication work, as on WebSocket: silence then means a broken path.
  write(GREET);
  // With `sent`: a keep-alive that is the last write must not hold a drain back.
  const ka = setInterval(() => res.writableEnded || res.write(': ka\n\n', drain.sent), KEEPALIVE_MS);
  link.drop = end;
  link.free = () => clearInterval(ka);
  link.backlog = () => res.writableLength;
  link.drained = drain.drained;
  res.on('close', () => host.gone(link));
  void host.hello(hello, req, link, (text) => {
    write(text);
    end();
  });
  return link;
}

/** A long-poll link's answers that were written but not read yet: bounded in bytes by the caller, in time here. */
function unreadAnswers(ms: number) {
  const answers = new Set<ServerResponse>();
  return {
    add(r: ServerResponse): void {
      if (r.writableFinished || r.destroyed) return;
      answers.add(r);
      const done = () => answers.delete(r);
      r.once('finish', done);
      r.once('close', done);
      cutUnread(r, ms);
    },
    bytes(): number {
      let n = 0;
      for (const r of answers) n += r.writableLength;
      return n;
    },
    cut(): void {
      for (const r of answers) r.destroy();
    },
  };
}

/** The `longpoll` downlink: the open is the first poll, held until the hello is done. */
export function openPoll<L extends HttpLink>(host: DownlinkHost<L>, req: IncomingMessage, res: ServerResponse, hello: HelloFrame): L {
  const idleMs = unreadMs(host.opts);
  /** Answers written but not read yet: their rest is unread downlink too. */
  const draining = unreadAnswers(idleMs);
  // The greeting leads the first answer; the open itself is a poll held until the hello is done.
  // Frames joined by commas, not transport messages: an answer is one batch of all of them.
  let pending: string[] = [GREET];
  /**
   * Answers written on this link, the open's the first, and the last one's frames: a poll says
   * how many answers it read whole (`r`, docs/protocol.md §2.3), and one that read one less (its
   * answer lost on the way: a gateway's 504 in its place, a cut) gets those frames again, first.
   * The last answer only: a client polls again once it read an answer, so it can have lost no
   * other. Its messages are still in the session's outbox (unacknowledged), but so may be the
   * ack, pong or reply the answer carried, which are not.
   */
  let answers = 0;
  let last: string[] = [];
  let held: ServerResponse | undefined = res;
  let opening = true;
  let holdTimer: ReturnType<typeof setTimeout> | undefined;
  let idleTimer: ReturnType<typeof setTimeout> | undefined;
  /** Flow control: the mailbox is the backlog, and an answer that took it drains it. */
  const drain = drainSignal(() => pendingBytes);
  const answer = () => {
    const r = held!;
    held = undefined;
    clearTimeout(holdTimer);
    r.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' }).end(pending.length ? wrapFrames('[', pending, ']') : '[]');
    answers++;
    last = pending;
    pending = [];
    pendingBytes = 0;
    // A client may poll again without reading the last answer: it stays here, unread, a while.
    draining.add(r);
    drain.sent();
    if (link.closed) return host.gone(link);
    // Not polled again in time: the client is gone, like a WebSocket that missed its heartbeats.
    idleTimer = setTimeout(() => host.gone(link), idleMs);
  };
  const hold = (r: ServerResponse) => {
    clearTimeout(idleTimer);
    held = r;
    r.on('close', () => {
      if (held !== r) return;
      held = undefined;
      clearTimeout(holdTimer);
      idleTimer = setTimeout(() => host.gone(link), idleMs);
    });
  };
  let pendingBytes = 0;
  const send = (text: string) => sendFrames([unbatch(text)]);
  const sendFrames = (parts: readonly string[]) => {
    // Joined at once: a burst's thousands of frame strings, kept until the next poll, were what
    // the scavenger copied (twice, as they aged); one joined string is not copied.
    const text = parts.join(',');
    if (!text) return; // an empty batch's inside
    pending.push(text);
    pendingBytes += text.length;
    if (opening) return;
    // Not polled, or its last answers not read, yet more and more to say: a slow reader. (What
    // a held poll is about to carry is not counted: a client that reads takes any one batch.)
    const unread = draining.bytes() + (held ? 0 : pendingBytes);
    if (unread <= host.opts.maxBufferedBytes) return void (held && answer());
    host.opts.logger.warn(`closing a slow reader: ${unread} bytes unpolled or unread`, { session: link.conn?.id });
    host.opts.metrics?.refused('slow_reader');
    pending = [];
    pendingBytes = 0;
    draining.cut();
    link.closed = true;
    if (held) answer(); // empty: the next poll finds no link (404) and the client resumes
    else host.gone(link);
  };
  const link = host.link('longpoll', send, sendFrames, (code, reason) => {
    if (link.closed) return;
    link.closed = true; // first: the answer that carries the bye is the link's last
    send(encodeFrame.bye(code, reason));
  });
  link.poll = (r, read) => {
    // A poll is the client's heartbeat here: our pings then ask for no answer (§5).
    link.conn?.polled(link);
    // One poll per session: the older one goes back empty so the client's newer one wins. (A
    // client polls again only once it gave the older one up: that answer is the one it lost.)
    if (held) answer();
    if (read != null) {
      const n = /^\d{1,9}$/.test(read) ? +read : -1;
      // More than was sent, two or more answers behind, or no number: not our client's poll.
      if (n !== answers && n !== answers - 1) return refuse(r, 400, 'bad_request', `query parameter r must be the number of answers read on this link: ${answers} or ${answers - 1}`);
      if (n < answers) {
        answers = n;
        for (const text of last) pendingBytes += text.length;
        pending = last.concat(pending);
      }
    }
    hold(r);
    if (pending.length || link.closed) return answer();
    holdTimer = setTimeout(answer, HOLD_MS);
  };
  link.drop = () => {
    link.closed = true;
    if (held) answer();
    host.gone(link);
  };
  link.free = () => {
    clearTimeout(idleTimer);
    clearTimeout(holdTimer);
  };
  // Flow control (session-links.ts `full`): the mailbox is the backlog; a poll's answer drains it.
  link.backlog = () => pendingBytes;
  link.drained = drain.drained;
  // The open's answer is its first poll: a client that gave the open up closed that request (or
  // a newer poll answered it). A flag, not `res`: a closure over the open's response here kept it,
  // and its request and socket state, for the link's whole life (+4.7 KB a long-poll link).
  let openClosed = false;
  res.once('close', () => (openClosed = true));
  link.abandoned = () => link.gone || (opening && openClosed);
  hold(res);
  host.hello(hello, req, link, (text) => {
    link.closed = true;
    send(text);
  })
    .then(() => {
      opening = false;
      if (held) answer();
    })
    .catch((err: unknown) => host.opts.logger.warn(`long-poll open failed: ${String(err)}`));
  return link;
}
