import type { AnyApi, ApiShape, RungName } from '../protocol/api';
import { Emitter } from '../util/emitter';
import { tryEncode } from '../protocol/data';
import { readFrames, type FrameSink } from './incoming';
import { WirefallError } from '../protocol/errors';
import { Inbox } from '../protocol/inbox';
import { Outbox, rejected } from '../protocol/outbox';
import { CloseCode } from '../protocol/close-codes';
import { encodeFrame } from '../protocol/encode';
import { Batcher, type BatchClock } from '../protocol/batcher';
import { PROTOCOL_VERSION, type Frame } from '../protocol/frames';
import type { Violation } from './violation';
import type { Link } from './link';
import type { ResolvedServerOptions } from './options';
import { Heartbeat } from './heartbeat';
import { TokenBucket } from './limits';
import { Calls, type CallHandler } from './calls';
import { CALL, type ArgOf, type ReplyOf, type RpcOf } from '../protocol/rpc';
import { checkRoom, type Rooms } from './rooms';
import { keyHash, type SessionState } from './handover';
import { readReport, REPORT_MAX, type AttemptReport } from './attempt-report';

export interface ConnectionEvents {
  /** The session ended: the client closed, it did not come back within the TTL, or the server closed it. */
  close: (reason: string) => void;
  /** The session moved to a link on another rung (or reconnected on the same one). */
  link: (rung: RungName | null) => void;
  /** The client reported the attempts that led to its current link (see `conn.attempts`). */
  attempts: (attempts: readonly AttemptReport[]) => void;
}

type Handler = (data: unknown, conn: unknown) => void;

/**
 * The server's handle on one client session, the same on every rung. It outlives links: while
 * the client is away its messages wait in the replay buffer, and a resume resends them.
 * @typeParam Api - the same type the client was created with.
 */
export class Connection<Api extends ApiShape = AnyApi, User = unknown> {
  /** The session id (also the key of the session store). */
  readonly id: string;
  /** What `authenticate` returned. */
  readonly user: User;
  /** @internal */
  readonly key: string;
  #opts: ResolvedServerOptions;
  #outbox: Outbox;
  #inbox = new Inbox();
  #link: Link | undefined;
  /** Links that were welcomed while the session had one; each waits for the client to speak. */
  #parked = new Map<Link, ReturnType<typeof setTimeout>>();
  /** The app's subscribers per message type. */
  #handlers: Emitter<Record<string, Handler>>;
  #calls: Calls<Connection<Api, User>>;
  #events: Emitter<ConnectionEvents>;
  #batcher: Batcher;
  /** What reading the client's frames (incoming.ts) needs of this session. */
  #sink: FrameSink;
  #heartbeat: Heartbeat;
  #expiry: ReturnType<typeof setTimeout> | undefined;
  #ended = false;
  /** Transport messages the client may still send now (`rateLimit.session`). */
  #rate: TokenBucket | undefined;
  #onEnd: (c: Connection<Api, User>) => void;
  /**
   * A new session is the app's only once the client claims it by speaking on it. A race whose
   * welcome was lost (cut after the server made the session, before the client read it) leaves a
   * session nobody will use: it must not become a phantom `connection` that lives for a TTL.
   */
  #claim: { timer: ReturnType<typeof setTimeout>; onClaim: (c: Connection<Api, User>) => void } | undefined;
  /** This node's room registry (rooms.ts); membership is the session's, so it outlives links. */
  #rooms: Rooms<Api, User> | undefined;
  /** The last report and the link it came on: one per link (protocol.md §4.1). */
  #report: { link: Link; attempts: readonly AttemptReport[] } | undefined;

  /** @internal */
  constructor(
    id: string,
    key: string,
    user: User,
    opts: ResolvedServerOptions,
    onEnd: (c: Connection<Api, User>) => void,
    onClaim: (c: Connection<Api, User>) => void,
    rooms?: Rooms<Api, User>,
  ) {
    this.id = id;
    this.#rooms = rooms;
    this.key = key;
    this.user = user;
    this.#opts = opts;
    this.#onEnd = onEnd;
    this.#outbox = new Outbox(opts.replay);
    // A handler that throws, or an async one that rejects, is the app's bug: report it, keep the
    // session (an unhandled rejection would end the whole process under Node's default).
    this.#handlers = new Emitter((err, type) => opts.logger.warn(`a "${String(type)}" subscriber failed`, { session: id, error: String(err) }));
    this.#calls = new Calls(opts.logger);
    this.#events = new Emitter((err, event) => opts.logger.warn(`a "${String(event)}" listener failed`, { session: id, error: String(err) }));
    this.#heartbeat = new Heartbeat(opts.heartbeatMs);
    this.#batcher = new Batcher({ clock: realTimers, inbox: this.#inbox, outbox: this.#outbox, link: () => this.#link, slice: () => opts.maxMessageBytes });
    this.#sink = {
      inbox: this.#inbox, outbox: this.#outbox, batcher: this.#batcher, maxBytes: opts.maxMessageBytes,
      deliver: (type, data) => this.#deliver(type, data),
      bye: () => this.#end('client closed'),
      report: (entries, link) => this.#reported(entries, link),
      // The frames stop once the session ended, or moved to another link in the meantime.
      live: (link) => !this.#ended && this.#link === link,
    };
    this.#rate = opts.rateLimit.session && new TokenBucket(opts.rateLimit.session);
    // Unclaimed for as long as a connection may stay silent before its hello: nobody will come.
    this.#claim = { onClaim, timer: setTimeout(() => this.#end('never claimed by its client'), opts.helloTimeoutMs) };
  }

  /** @internal True once the client spoke on the session (the app has heard of it). */
  get claimed(): boolean {
    return !this.#claim;
  }

  /** The rung the client is on, or null while it is away. */
  get rung(): RungName | null {
    return this.#link?.rung ?? null;
  }
  /** True once the session has ended for good. */
  get closed(): boolean {
    return this.#ended;
  }
  /**
   * The connection attempts the client reported when it opened its current link (rung, outcome,
   * ms, reason code): how it got here, e.g. WebSocket failed with `WF_NO_DATA`, SSE verified.
   * Empty until the client reports (clients of this version do once per link).
   */
  get attempts(): readonly AttemptReport[] {
    return this.#report?.attempts ?? [];
  }

  /** Messages waiting for the client's acknowledgement, and their bytes (the replay buffer). */
  get buffered(): { messages: number; bytes: number } {
    return { messages: this.#outbox.size, bytes: this.#outbox.bytes };
  }

  /**
   * Sends a message to this client. Resolves when the client acknowledged it; rejects with
   * `WF_OUTBOX_FULL` when the replay buffer is full (a slow consumer) and `WF_CLOSED` when the
   * session ends first.
   */
  send<K extends keyof Api['server'] & string>(type: K, data: Api['server'][K]): Promise<void> {
    const encoded = tryEncode(data, type); // WF_INVALID: a reserved type, a Date, a Map, … (its path is named)
    return encoded instanceof WirefallError ? rejected(encoded) : this.sendEncoded(type, encoded.payload, true, encoded.e)!;
  }

  /**
   * @internal Sends a payload already encoded as JSON (broadcast encodes once for everyone, and
   * asks for no promise: a promise per message and recipient is what the GC would pay for).
   */
  sendEncoded(type: string, payload: string, settle: boolean = true, e?: string): Promise<void> | undefined {
    if (this.#ended) return rejected(new WirefallError('WF_CLOSED', 'the session has ended'));
    this.#opts.metrics?.messageOut();
    const p = settle ? this.#outbox.push(type, payload, true, undefined, e) : this.#outbox.push(type, payload, false, undefined, e);
    this.#batcher.schedule();
    return p;
  }

  /** Calls `handler` for every `type` message from this client; returns the unsubscribe function. */
  subscribe<K extends keyof Api['client'] & string>(
    type: K,
    handler: (data: Api['client'][K], conn: Connection<Api, User>) => void,
  ): () => void {
    return this.#handlers.on(type, handler as Handler);
  }

  /**
   * Answers the client's `request(name, …)`: the handler runs once per request, across cuts and
   * rung changes, and its result (or promise) is the reply. Throw an error with a string `code`
   * to send the app's own error (the client rejects with `WF_REQUEST_FAILED`, `remoteCode`).
   * Returns the function that removes the handler.
   */
  handle<K extends keyof RpcOf<Api> & string>(
    name: K,
    handler: (args: ArgOf<Api, K>, conn: Connection<Api, User>) => ReplyOf<Api, K> | Promise<ReplyOf<Api, K>>,
  ): () => void {
    return this.#calls.handle(name, handler as CallHandler<Connection<Api, User>>);
  }

  /**
   * Puts this session in `room` (`server.to(room).broadcast` reaches it); true when it was not
   * a member yet. Membership belongs to the session: it survives reconnects and rung changes, and
   * ends with the session. Throws `WF_INVALID` for a name that is not 1–256 characters.
   */
  join(room: string): boolean {
    checkRoom(room);
    return !this.#ended && !!this.#rooms?.join(this, room);
  }

  /** Takes this session out of `room`; true when it was a member. */
  leave(room: string): boolean {
    checkRoom(room);
    return !!this.#rooms?.leave(this, room);
  }

  /** The rooms this session is in. */
  get rooms(): string[] {
    return this.#rooms?.roomsOf(this) ?? [];
  }

  /** Listens to `close` or `link`; returns the unsubscribe function. */
  on<E extends keyof ConnectionEvents>(event: E, listener: ConnectionEvents[E]): () => void {
    return this.#events.on(event, listener);
  }

  /** Ends the session: the client is told (`bye` / close code) and will not resume it. */
  close(code: number = CloseCode.GoingAway, reason = 'closed by server'): void {
    this.#end(reason, code);
  }

  // --- moving between nodes (handover.ts) -----------------------------------------------------

  /**
   * @internal Ends the session on this node and returns it as data for another node, with its
   * links, which the caller closes (after the state is safe in the store). Nothing that arrives
   * afterwards is handled here: the state is exactly what the next node continues from. The app
   * hears `close` with the reason `moved to another node`; its unsettled `send`s reject
   * (`WF_CLOSED`): they stay in the moved replay and are delivered by the next node.
   */
  handOver(identity: string): { state: SessionState; links: Link[] } {
    const state: SessionState = {
      v: 1, id: this.id, keyHash: keyHash(this.key), identity, user: JSON.stringify(this.user) ?? 'null',
      received: this.#inbox.received, outbox: this.#outbox.state(), rooms: this.rooms,
    };
    const links = [...(this.#link ? [this.#link] : []), ...this.#parked.keys()];
    this.#end('moved to another node', CloseCode.GoingAway, false);
    return { state, links };
  }

  /** @internal A new session takes over `state` (from `handOver` on another node) before its first link. */
  adopt(state: SessionState): void {
    this.#inbox.received = state.received;
    this.#outbox.adopt(state.outbox);
    for (const room of state.rooms) this.#rooms?.join(this, room);
  }

  // --- links ----------------------------------------------------------------------------------

  /**
   * @internal A hello for this session arrived on `link` (`ack`: the last message the client
   * received in order; `v`: the protocol version it speaks, echoed in the welcome). The link gets its welcome at once — nothing the app sends can overtake
   * it — but it becomes the session's link only when the client speaks on it, unless the session
   * has none. Racing attempts each say hello; only the one the client chose speaks, so a loser
   * that arrives late can never take the session from the winner.
   */
  offer(link: Link, ack: number | undefined, resumed: boolean, v: number = PROTOCOL_VERSION): boolean {
    if (ack !== undefined && !this.#outbox.ack(ack, Date.now())) return false;
    link.send(encodeFrame.welcome({
      v, sid: this.id, key: this.key, hb: this.#opts.heartbeatMs,
      ack: this.#inbox.received, resumed, max: this.#opts.maxMessageBytes, rep: REPORT_MAX,
    }));
    if (this.#link) {
      // Parked: a client that never speaks on it (a race loser it closed) does not keep it.
      this.#parked.set(link, setTimeout(() => this.detach(link, false), this.#opts.helloTimeoutMs));
    } else this.#switch(link);
    return true;
  }

  #switch(link: Link): void {
    const old = this.#link;
    clearTimeout(this.#parked.get(link));
    this.#parked.delete(link);
    this.#link = link;
    old?.close(CloseCode.Replaced, 'session moved to another connection');
    clearTimeout(this.#expiry);
    this.#expiry = undefined;
    this.#inbox.resumed();
    this.#outbox.rewind();
    this.#startHeartbeat();
    this.#batcher.schedule();
    this.#opts.logger.debug(`session ${old ? 'moved' : 'linked'} to ${link.rung}`, { session: this.id });
    this.#events.emit('link', link.rung);
  }

  /** @internal The last message received from the client in order (for the welcome). */
  get received(): number {
    return this.#inbox.received;
  }

  /** @internal The link went away. `clean`: the client said goodbye, so the session ends. */
  detach(link: Link, clean: boolean): void {
    if (this.#parked.has(link)) {
      clearTimeout(this.#parked.get(link));
      this.#parked.delete(link);
      link.close(CloseCode.Abandoned, 'not chosen');
    } else if (this.#link === link) {
      this.#link = undefined;
      this.#stopLinkTimers();
      if (clean) return this.#end('client closed');
    } else return;
    if (this.#link || this.#parked.size) return;
    this.#opts.logger.debug('session lost its link; waiting for a resume', { session: this.id });
    this.#events.emit('link', null);
    clearTimeout(this.#expiry);
    this.#expiry = setTimeout(() => this.#end('session expired'), this.#opts.sessionTtlMs);
  }

  /**
   * @internal A transport message arrived from the client: false when it is over the session's
   * rate limit (the rung then ends the link with `rate_limited`). One session sending 66,000
   * messages a second stalled the event loop for every other one (issue 16, item 10).
   */
  admit(): Violation | undefined {
    if (this.#rate?.take() !== false) return undefined;
    const r = this.#rate.rate;
    return { code: 'rate_limited', closeCode: CloseCode.RateLimited, message: `more than ${r.perSecond} messages per second (burst ${r.burst})` };
  }

  /** @internal Frames from the client over `link`; returns a `Violation` when they break the protocol. */
  receive(link: Link, frames: Frame[], textBytes: number): Violation | undefined {
    if (this.#link !== link) {
      if (!this.#parked.has(link)) return undefined; // a replaced link's stragglers
      this.#switch(link); // the client speaks here: this is the link it chose
    }
    const claim = this.#claim;
    if (claim) {
      this.#claim = undefined;
      clearTimeout(claim.timer);
      // The app hears of the session before its first message, so its subscribers are in place.
      claim.onClaim(this);
      if (this.#ended || this.#link !== link) return undefined;
    }
    const now = Date.now();
    this.#heartbeat.seen(now);
    return readFrames(frames, textBytes, now, this.#sink, link);
  }

  #deliver(type: string, data: unknown): void {
    this.#opts.metrics?.messageIn();
    if (type === CALL) this.#calls.run(data, this);
    else if (this.#handlers.count(type)) this.#handlers.emit(type, data, this);
    else this.#opts.logger.warn(`no subscriber for "${type}"`, { session: this.id });
  }

  /** A `report` frame: kept, told to the app and the metrics; a bad or second one is refused without ending the link. */
  #reported(entries: unknown[], link: Link): void {
    const read = this.#report?.link === link ? { code: 'protocol_error' as const, message: 'a second report on one link' } : readReport(entries);
    if ('code' in read) {
      this.#opts.logger.warn(`refused an attempt report: ${read.message}`, { session: this.id });
      this.#opts.metrics?.refused(read.code);
      this.#batcher.push(encodeFrame.error(read.code, `report refused: ${read.message}`, undefined, false));
      return this.#batcher.schedule();
    }
    this.#report = { link, attempts: read.attempts };
    this.#opts.metrics?.attempts(read.attempts);
    this.#events.emit('attempts', read.attempts);
  }

  #startHeartbeat(): void {
    this.#heartbeat.start(
      () => (this.#batcher.push(encodeFrame.ping()), this.#batcher.schedule()),
      () => {
        const link = this.#link;
        if (!link) return;
        link.close(CloseCode.HeartbeatTimeout, 'heartbeat timeout');
        this.detach(link, false);
      },
    );
  }

  #stopLinkTimers(): void {
    this.#heartbeat.stop();
    this.#batcher.stop();
  }

  /** `closeLinks` false: the caller closes them (a hand-over, once the state is stored). */
  #end(reason: string, code: number = CloseCode.GoingAway, closeLinks = true): void {
    if (this.#ended) return;
    this.#ended = true;
    if (this.#claim) clearTimeout(this.#claim.timer);
    this.#stopLinkTimers();
    clearTimeout(this.#expiry);
    const link = this.#link;
    this.#link = undefined;
    if (closeLinks) link?.close(code, reason);
    for (const [l, t] of this.#parked) (clearTimeout(t), closeLinks && l.close(code, reason));
    this.#parked.clear();
    this.#outbox.rejectAll(new WirefallError('WF_CLOSED', `session ended: ${reason}`));
    this.#rooms?.drop(this);
    this.#onEnd(this);
    this.#opts.logger.info(`session ended: ${reason}`, { session: this.id });
    this.#events.emit('close', reason);
  }
}

/** The server runs on real timers; the client's batcher runs on `platform.clock`. */
const realTimers = { now: Date.now, setTimeout, clearTimeout } as BatchClock;
