import { DEV } from '../dev';
import { decode } from '../protocol/codec';
import { encodeBye, unbatch, wrapFrames } from '../protocol/encode';
import type { WelcomeFrame } from '../protocol/frames';
import type { WireErrorCode } from '../protocol/wire-errors';
import type { Transport, TransportContext, TransportFailure } from './transport';


/** Uplink POSTs in flight at once (the server holds up to 8 numbers ahead: src/server/http-uplink.ts). */
const IN_FLIGHT = 4;
/**
 * How long, in UTF-16 units, the next queued message must be for a second POST to go beside one
 * in flight. The core hands a burst over in slices of 256 messages, a conversation a few frames
 * at a time: shorter ones wait for the POST in flight and leave with the next, as one batch, so
 * a conversation costs no more requests than with one POST at a time; a burst goes in parallel.
 */
const EAGER_UNITS = 1 << 14;
/** How long close(1000) lets the uplink drain, its bye last: the retries of a failed POST take 1.5 s. */
const DRAIN_MS = 2000;

/**
 * An HTTP error answer as a failure, for every rung. Our server marks its answers with
 * `x-wirefall-error` (`ours`), but only the app's own decisions stop the ladder: `authenticate` or
 * the origin policy (401/403 with our header; a version refusal comes as an `error` frame). Any
 * other status, ours included, may mean the request reached us mangled by a middlebox (a stripped
 * upgrade is the common one) or never reached us at all, and the next rung may well work.
 */
export function refusal(status: number | undefined, ours: string | null | undefined, note = ''): TransportFailure {
  const denied = !!ours && (status === 401 || status === 403);
  return {
    code:
      // Only a WebSocket's upgrade sees a 101 here: one that Node's parser did not take as an
      // upgrade had its `Connection` header rewritten.
      status === 101 ? 'WF_HANDSHAKE'
      : status === 407 ? 'WF_PROXY_AUTH'
      : denied ? 'WF_UNAUTHORIZED'
      : ours === ('upgrade_stripped' satisfies WireErrorCode) ? 'WF_UPGRADE_STRIPPED'
      : 'WF_REFUSED',
    // The production build keeps our tag; the status is in `status`.
    message: DEV ? (status === 101 ? '101 without Connection: Upgrade' : `HTTP ${status}${ours ? ` (${ours})` : note}`) : ours || '',
    status,
    fromServer: denied,
  };
}

/** A non-2xx fetch answer as a failure. */
export const refused = (res: Response, note = ''): TransportFailure => refusal(res.status, res.headers.get('x-wirefall-error'), note);

/** What an HTTP rung's downlink loop gets from the shared part. */
export interface HttpChannel {
  /** Hands a message to the core, learning the session from its welcome on the way; truthy: wait before the next poll. */
  deliver(text: string): unknown;
  fail(f: TransportFailure): void;
  done(): boolean;
  /**
   * Protocol 3 open: POSTs the hello (with its `auth`, and on resume the session key; no
   * reusable secret is ever in a URL, where proxy and server logs keep it) and resolves with the
   * answer, which is the downlink itself: the event stream, or the first poll's answer. Undefined
   * when it failed (already reported).
   */
  open(hello: string, headers?: Record<string, string>): Promise<Response | void>;
  /** A long-poll of the session with its key in the body, once the welcome was seen; `got`: the answers read whole (§2.3). */
  poll(got: number): Promise<Response> | undefined;
  /** The welcome said the server answers a lost poll again (`rp`, §2.3): a failed poll may be sent again. */
  rp(): unknown;
  /**
   * Reads an answer's body as text, chunk by chunk, into `feed`, which returns how many UTF-16
   * units it holds. Past 100 Mi, where Node's `ws` bounds a WebSocket message (maxPayload,
   * 100 MiB), the link fails as WF_PROTOCOL: a broken server or a middlebox that answers without
   * end grew a string until the engine's limit (~1 GB of heap in Node). True when the body ended
   * within the bound on a link still up; a cut body rejects.
   */
  read(res: Response, feed: (text: string) => number): Promise<boolean>;
}

/**
 * The part both HTTP rungs share: uplink POSTs and their numbers, the session learned from the
 * welcome (POSTs and polls name it), and a `close` after which nothing reaches the core.
 */
export function httpTransport(ctx: TransportContext, t: string, downlink: (ch: HttpChannel) => Promise<void>): Transport {
  const { platform, events, rung } = ctx;
  const ac = new AbortController();
  const base = `${rung.url}${rung.url.includes('?') ? '&' : '?'}t=${t}&`;
  /** Nothing reaches the core any more (failed, or closed). */
  let done = false;
  /** Nothing more goes up. Only a close(1000) sets `done` without it: the uplink drains, the bye last. */
  let off = false;
  let w: WelcomeFrame | undefined;
  const queue: string[] = [];
  let inFlight = 0;
  let n = 0;
  // Names this transport's uplink, so that the server can tell a late POST of an earlier
  // transport of the same session (aborted here, still on its way there) from ours.
  const u = platform.random().toString(36).slice(2, 10) || 'u';

  const fail = (f: TransportFailure) => {
    if (done) return;
    done = off = true;
    ac.abort();
    events.close(f);
  };
  const netError = (cause: unknown): TransportFailure => ({ code: 'WF_NETWORK', message: DEV ? 'network error (possibly a proxy)' : '', cause });
  const net = (cause: unknown) => fail(netError(cause));
  // Every request is a POST (protocol 3: the open, the polls, the uplink) with `q` added to the
  // query, on this transport's abort signal. text/plain keeps it a "simple" cross-origin request:
  // no preflight round trip.
  const postTo = (q: string, body: string, headers?: Record<string, string>, keepalive?: boolean) =>
    platform.fetch!(base + q, { cache: 'no-store', signal: ac.signal, method: 'POST', keepalive, headers: { 'Content-Type': 'text/plain;charset=UTF-8', ...headers }, body });
  // `body`: the key line, then the frames (src/server/rung-http.ts).
  const post = (body: string, seq: number, keepalive?: boolean) => postTo(`sid=${encodeURIComponent(w!.sid)}&u=${u}&n=${seq}`, body, undefined, keepalive);

  // Up to IN_FLIGHT numbered POSTs at once (more than one only for a burst: EAGER_UNITS); the
  // server delivers them in number order. What queues meanwhile leaves in batches, kept well
  // under the server's body limit (a UTF-16 unit is at most 3 bytes of UTF-8) and as large as
  // that allows: each request costs the client more than its bytes (64 Ki-unit batches, four
  // times the requests, measured 20–40 % slower client→server).
  const pump = () => {
    // Draining (`done`, not `off`): all at once, so that the bye leaves now.
    while (!off && queue[0] && inFlight < IN_FLIGHT && (!inFlight || done || queue[0].length >= EAGER_UNITS)) {
      let k = 1;
      for (let len = queue[0]!.length, cap = w!.max / 4; k < queue.length && (len += queue[k]!.length) <= cap; ) k++;
      // One batch of every queued message's frames, joined once into a flat string: templates
      // around joins were flattened again (copied) by fetch, and slicing one open copied it too.
      const body = wrapFrames(`${w!.key}\n[`, queue.splice(0, k).map(unbatch), ']');
      const seq = ++n;
      inFlight++;
      // A POST that failed on the way (a 5xx from a gateway, a reset) is sent again on the same
      // link, with its number, after 100, 200, 400, 800 ms: the server drops a number it already
      // delivered and holds later ones until the gap is filled. The link is given up only when
      // the retries fail too (or the downlink does); a 4xx is an answer, not a failure on the way.
      // While draining (close(1000)) the retries go on: the bye is numbered after them.
      let tries = 0;
      const retry = (f: TransportFailure) => (off ? 0 : ++tries > 4 ? fail(f) : platform.clock.setTimeout(send, 50 << tries));
      // Drained (the bye was the last): the downlink may stop. Our server's answer is a 204; a body
      // (a middlebox's page, a gateway's 502 page before a retry) is cancelled, or in Node each POST
      // held its connection until GC (31 open after 30 POSTs answered with 1 MiB each; 22 open,
      // none closed, after 20 POSTs each retried past a 502). Caught: a cut body's cancel rejects.
      const sent = (res: Response) => (res.body?.cancel().catch(() => 0), res.ok ? (inFlight--, pump(), done && !inFlight && !queue[0] && abort()) : res.status >= 500 ? retry(refused(res)) : fail(refused(res)));
      // keepalive while draining (a page's last act), but not for a body over its 64 KiB quota.
      const send = () => !off && post(body, seq, done && body.length < EAGER_UNITS).then(sent, (cause) => retry(netError(cause)));
      send();
    }
  };

  let timer: unknown;
  const abort = () => {
    off = true;
    platform.clock.clearTimeout(timer);
    ac.abort();
  };

  const ch: HttpChannel = {
    fail,
    done: () => done,
    deliver(text) {
      if (done) return;
      try {
        // Read until the welcome (the core reads every message again: this costs one decode, once).
        w ??= decode(text).find((f): f is WelcomeFrame => f.t === 'welcome');
      } catch {
        /* the core reports malformed data */
      }
      return events.message(text);
    },
    async open(hello, headers) {
      const res = await postTo(`u=${u}`, hello, headers);
      return done ? undefined : res.ok ? res : fail(refused(res));
    },
    poll: (got) => w && postTo(`sid=${encodeURIComponent(w.sid)}&poll=1&r=${got}`, w.key),
    rp: () => w?.rp,
    async read(res, feed) {
      const reader = res.body!.getReader();
      // No flush at the end: a transport message is JSON, whose last character is ASCII.
      const decoder = new TextDecoder();
      for (let r; !done && !(r = await reader.read()).done; ) {
        if (feed(decoder.decode(r.value, { stream: true })) > 100 * 2 ** 20) fail({ code: 'WF_PROTOCOL', message: DEV ? 'a message over 100 Mi characters' : '' });
      }
      return !done;
    },
  };
  if (platform.fetch) downlink(ch).catch(net);
  else queueMicrotask(() => fail({ code: 'WF_INVALID', message: DEV ? 'no fetch implementation: pass one in options.fetch' : '' }));

  return {
    send(text) {
      if (done) return;
      // Pumped at the end of the tick: `fetch` writes nothing before it anyway, and a burst's
      // slices (the core hands them over every 256 messages) then leave as a few large POSTs
      // instead of four small ones first.
      if (queue.push(text) === 1) void Promise.resolve().then(pump);
    },
    close(code) {
      if (done) return;
      done = true;
      // A WebSocket's close 1000 ends the session once what was written went out. Here the server
      // learns it from a bye, which goes the same way: numbered after what this transport took
      // (queued, in flight, waiting for a retry), before the downlink drops (or the server would
      // take the drop for a vanished client: TTL). Bounded: the downlink stops once the bye is
      // answered, or after DRAIN_MS. A bye held behind a gap that does not fill (a POST given up
      // on) ends the session after the server's grace, not the gap's deadline (protocol.md §2.2).
      if (code === 1000 && w) {
        timer = platform.clock.setTimeout(abort, DRAIN_MS);
        queue.push(encodeBye(1000));
        pump();
      } else abort();
    },
  };
}
