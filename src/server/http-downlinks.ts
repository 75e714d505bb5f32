import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RungName } from '../protocol/api';
import { unbatch, wrapFrames } from '../protocol/encode';
import { encodeFrame } from './codec';
import type { HelloFrame } from '../protocol/frames';
import type { HttpLink } from './http-answers';
import type { ResolvedServerOptions } from './options';

const GREET = encodeFrame.greet();
/** Idle-cutting proxies commonly give up after 30–60 s of silence. */
const KEEPALIVE_MS = 15_000;
/** Below the common 30 s idle cuts, so an empty answer comes back before a proxy drops the poll. */
const HOLD_MS = 25_000;

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
  const put = (event: string) => {
    if (res.writableEnded || res.destroyed) return;
    res.write(event);
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
  };
  const frames = (parts: readonly string[]) => put(parts.length === 1 ? `data: ${parts[0]}\n\n` : wrapFrames('data: [', parts, ']\n\n'));
  const link = host.link('sse', write, frames, (code, reason) => {
    write(encodeFrame.bye(code, reason));
    end();
  });
  // Greet before any authentication work, as on WebSocket: silence then means a broken path.
  write(GREET);
  const ka = setInterval(() => res.writableEnded || res.write(': ka\n\n'), KEEPALIVE_MS);
  link.drop = end;
  link.free = () => clearInterval(ka);
  res.on('close', () => host.gone(link));
  void host.hello(hello, req, link, (text) => {
    write(text);
    end();
  });
  return link;
}

/** The `longpoll` downlink: the open is the first poll, held until the hello is done. */
export function openPoll<L extends HttpLink>(host: DownlinkHost<L>, req: IncomingMessage, res: ServerResponse, hello: HelloFrame): L {
  const idleMs = 2 * host.opts.heartbeatMs + 5000;
  // The greeting leads the first answer; the open itself is a poll held until the hello is done.
  // Frames joined by commas, not transport messages: an answer is one batch of all of them.
  let pending: string[] = [GREET];
  let held: ServerResponse | undefined = res;
  let opening = true;
  let holdTimer: ReturnType<typeof setTimeout> | undefined;
  let idleTimer: ReturnType<typeof setTimeout> | undefined;
  const answer = () => {
    const r = held!;
    held = undefined;
    clearTimeout(holdTimer);
    r.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' }).end(pending.length ? wrapFrames('[', pending, ']') : '[]');
    pending = [];
    pendingBytes = 0;
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
    if (held && !opening) return answer();
    // Not polled, yet more and more to say: a reader that stopped reading (slow_reader).
    if (pendingBytes > host.opts.maxBufferedBytes && !opening) {
      host.opts.logger.warn(`closing a slow reader: ${pendingBytes} bytes unpolled`, { session: link.conn?.id });
      host.opts.metrics?.refused('slow_reader');
      pending = [];
      host.gone(link);
    }
  };
  const link = host.link('longpoll', send, sendFrames, (code, reason) => {
    if (link.closed) return;
    link.closed = true; // first: the answer that carries the bye is the link's last
    send(encodeFrame.bye(code, reason));
  });
  link.poll = (r) => {
    // A poll is the client's heartbeat here: our pings then ask for no answer (§5).
    link.conn?.polled(link);
    // One poll per session: the older one goes back empty so the client's newer one wins.
    if (held) answer();
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
