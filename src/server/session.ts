import type { AnyApi, ApiShape, RungName } from '../protocol/api';
import { tryEncode } from '../protocol/data';
import { readFrames, readTransportMessage, type FrameSink } from './incoming';
import { WirefallError } from '../protocol/errors';
import { rejected } from '../protocol/outbox';
import { RetainingOutbox } from './retaining-outbox';
import { CloseCode } from '../protocol/close-codes';
import { sessionBatcher, type SessionBatcher } from './session-batcher';
import { PROTOCOL_VERSION, type Frame } from '../protocol/frames';
import type { Violation } from './violation';
import type { Link } from './link';
import type { ResolvedServerOptions } from './options';
import { SessionLinks } from './session-links';
import type { CallHandler } from './calls';
import type { ArgOf, ReplyOf, RpcOf } from '../protocol/rpc';
import { checkRoom, type Rooms } from './rooms';
import type { SessionRecords, SessionState } from './handover';
import { SessionMove } from './session-move';
import { GatedInbox } from './durable';
import { SessionReports, type AttemptReport } from './attempt-report';
import { SessionClaim } from './session-claim';
import { SessionListeners, type ConnectionEvents, type Handler } from './session-listeners';

export type { ConnectionEvents } from './session-listeners';

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
  #outbox: RetainingOutbox;
  #inbox = new GatedInbox();
  /** The live link and the ones parked beside it (session-links.ts). */
  #links: SessionLinks;
  /** The app's subscribers, request handlers and event listeners (session-listeners.ts). */
  #app: SessionListeners<Connection<Api, User>>;
  #batcher: SessionBatcher;
  /** What reading the client's frames (incoming.ts) needs of this session. */
  #sink: FrameSink;
  #ended = false;
  #onEnd: (c: Connection<Api, User>) => void;
  /** The app hears of a new session once its client speaks on it (session-claim.ts). */
  #claim: SessionClaim<Connection<Api, User>>;
  /** This node's room registry (rooms.ts); membership is the session's, so it outlives links. */
  #rooms: Rooms<Api, User> | undefined;
  /** Moving between nodes, and the durable record (session-move.ts). */
  #move: SessionMove;
  /** The attempt reports its client sent (attempt-report.ts). */
  #reports: SessionReports;

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
    this.#outbox = new RetainingOutbox(opts.replay);
    const app = (this.#app = new SessionListeners(id, opts));
    this.#batcher = sessionBatcher({ inbox: this.#inbox, outbox: this.#outbox, link: () => this.#links.current, opts });
    this.#reports = new SessionReports({ id, opts, reply: (frame) => (this.#batcher.push(frame), this.#batcher.schedule()), told: (a) => app.events.emit('attempts', a) });
    this.#links = new SessionLinks({
      id, key, opts, inbox: this.#inbox, outbox: this.#outbox, batcher: this.#batcher,
      linked: (rung) => app.events.emit('link', rung),
      end: (reason) => this.#end(reason),
    });
    this.#outbox.full = () => this.#links.full();
    this.#sink = {
      inbox: this.#inbox, outbox: this.#outbox, batcher: this.#batcher, maxBytes: opts.maxMessageBytes,
      deliver: (type, data) => app.deliver(type, data, this),
      bye: () => this.#end('client closed'),
      report: (entries, link) => this.#reports.receive(entries, link),
      // The frames stop once the session ended, or moved to another link in the meantime.
      live: (link) => !this.#ended && this.#links.current === link,
    };
    this.#move = new SessionMove({
      conn: this, inbox: this.#inbox, outbox: this.#outbox, opts,
      join: (room) => this.#rooms?.join(this, room),
      released: () => (this.#links.released(), this.#batcher.schedule()),
      fenced: (code) => this.#end('moved to another node', code, true, true),
    });
    this.#claim = new SessionClaim(onClaim, opts.helloTimeoutMs, () => this.#end('never claimed by its client'));
  }

  /** @internal True for a session that moved here from another node (the app heard of it there). */
  get moved(): boolean {
    return this.#move.moved;
  }

  /** @internal True once the client spoke on the session (the app has heard of it). */
  get claimed(): boolean {
    return this.#claim.claimed;
  }

  /** The rung the client is on, or null while it is away. */
  get rung(): RungName | null {
    return this.#links.current?.rung ?? null;
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
    return this.#reports.attempts;
  }
  /** Messages waiting for the client's acknowledgement, and their bytes (the replay buffer). */
  get buffered(): { messages: number; bytes: number } {
    return { messages: this.#outbox.q.length, bytes: this.#outbox.bytes };
  }

  /**
   * Sends a message to this client. Resolves when the client acknowledged it; rejects with
   * `WF_OUTBOX_FULL` when the replay buffer is full (a slow consumer) and `WF_CLOSED` when the
   * session ends first. Sends of one tick may share a promise, settled with the last of them
   * (docs/protocol.md §4).
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
    // Node's native count: the outbox's portable one (a regex test, then a loop) was 7 % of a burst.
    const bytes = Buffer.byteLength(payload);
    const p = settle ? this.#outbox.push(type, payload, true, bytes, e) : this.#outbox.push(type, payload, false, bytes, e);
    this.#batcher.queued(); // at once for a long burst (session-batcher.ts)
    this.#move.durable?.touch();
    return p;
  }

  /** Calls `handler` for every `type` message from this client; returns the unsubscribe function. */
  subscribe<K extends keyof Api['client'] & string>(
    type: K,
    handler: (data: Api['client'][K], conn: Connection<Api, User>) => void,
  ): () => void {
    return this.#app.handlers.on(type, handler as Handler);
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
    return this.#app.calls.handle(name, handler as CallHandler<Connection<Api, User>>);
  }

  /**
   * Puts this session in `room` (`server.to(room).broadcast` reaches it); true when it was not
   * a member yet. Membership belongs to the session: it survives reconnects and rung changes, and
   * ends with the session. Throws `WF_INVALID` for a name that is not 1–256 characters.
   */
  join(room: string): boolean {
    checkRoom(room);
    const joined = !this.#ended && !!this.#rooms?.join(this, room);
    if (joined) this.#move.durable?.touch(true);
    return joined;
  }

  /** Takes this session out of `room`; true when it was a member. */
  leave(room: string): boolean {
    checkRoom(room);
    const left = !!this.#rooms?.leave(this, room);
    if (left) this.#move.durable?.touch(true);
    return left;
  }

  /** The rooms this session is in. */
  get rooms(): string[] {
    return this.#rooms?.roomsOf(this) ?? [];
  }

  /** Listens to `close` or `link`; returns the unsubscribe function. */
  on<E extends keyof ConnectionEvents>(event: E, listener: ConnectionEvents[E]): () => void {
    return this.#app.events.on(event, listener);
  }

  /** Ends the session: the client is told (`bye` / close code) and will not resume it. */
  close(code: number = CloseCode.GoingAway, reason = 'closed by server'): void {
    this.#end(reason, code);
  }

  /**
   * @internal Ends the session here and returns it as data for another node, with its links for
   * the caller to close once the state is stored; nothing arriving afterwards is handled here. The
   * app hears `close` (`moved to another node`); unsettled `send`s reject (`WF_CLOSED`), and their
   * messages travel in the state's replay.
   */
  handOver(identity: string): { state: SessionState; links: Link[] } {
    const state = this.#move.state(identity);
    return { state, links: this.#end('moved to another node', CloseCode.GoingAway, false) };
  }

  /** @internal Takes over `state` from another node, before the first link (session-move.ts). */
  adopt(state: SessionState): void {
    this.#move.adopt(state);
    this.#claim.adopted();
  }
  /** @internal Each batch is committed to `records` from now on (session-move.ts). */
  keep(records: SessionRecords, identity: string, from?: SessionState): Promise<void> | undefined {
    return this.#move.keep(records, identity, from);
  }
  /** @internal The store came back, maybe empty: commit now (a record it lost is written whole). */
  recommit(): void {
    this.#move.durable?.touch(true);
  }

  /**
   * @internal A hello for this session arrived on `link` (`ack`: the last message the client
   * received in order; `v`: its protocol version, echoed in the welcome). The welcome goes at once
   * (nothing the app sends can overtake it); the link is parked until the client speaks on it,
   * unless the session has none. False when `ack` acknowledges what was never sent, or less than
   * was acknowledged already. `hello`: its
   * race token, and `fence` from a new writer (session-links.ts).
   */
  offer(link: Link, ack: number | undefined, resumed: boolean, v: number = PROTOCOL_VERSION, hello: { race?: string; fence?: number; tabs?: number } = {}): boolean {
    // What a shared session kept, and a new writer's resume behind the ack (retaining-outbox.ts).
    if (!this.#outbox.resume(ack, hello, !!this.#move.durable, Date.now())) return false;
    if (resumed) this.#claim.resumed();
    this.#move.durable?.touch();
    this.#links.welcome(link, resumed, v, hello.race, resumed && hello.fence === 1);
    return true;
  }

  /** @internal The link went away. `clean`: the client said goodbye, so the session ends. */
  detach(link: Link, clean: boolean): void {
    this.#links.detach(link, clean);
  }

  /** @internal The client polled `link` (long-polling): a sign of life without frames (§5). */
  polled(link: Link): void {
    this.#links.polled(link);
  }

  /** @internal A transport message arrived from the client: a violation when it is over the session's rate limit. */
  admit(): Violation | undefined {
    return this.#links.admit();
  }

  /** @internal Frames from the client over `link`; returns a `Violation` when they break the protocol. */
  receive(link: Link, frames: Frame[], textBytes: number): Violation | undefined {
    if (!this.#links.choose(link)) return undefined; // a replaced link's stragglers
    if (!this.#claim.claimed) {
      // The app hears of the session before its first message, so its subscribers are in place.
      this.#claim.claim(this);
      if (this.#ended || this.#links.current !== link) return undefined;
    }
    const now = Date.now();
    this.#links.seen(now);
    // A durable session's handlers run inside its commit window, through a closure; no other
    // session pays for one per message. Its replies wait for their commit, as ever.
    if (this.#move.durable) return this.#move.during(() => readFrames(frames, textBytes, now, this.#sink, link));
    return readTransportMessage(frames, textBytes, now, this.#sink, link, this.#batcher);
  }

  /**
   * `closeLinks` false: the caller closes them (a hand-over, once the state is stored). `moved`:
   * the session goes on elsewhere, so its durable record stays.
   */
  #end(reason: string, code: number = CloseCode.GoingAway, closeLinks = true, moved = !closeLinks): Link[] {
    if (this.#ended) return [];
    this.#ended = true;
    this.#move.durable?.end(moved);
    this.#claim.ended();
    const links = this.#links.release();
    if (closeLinks) for (const l of links) l.close(code, reason);
    this.#outbox.rejectAll(new WirefallError('WF_CLOSED', `session ended: ${reason}`));
    this.#rooms?.drop(this);
    this.#onEnd(this);
    this.#opts.logger.info(`session ended: ${reason}`, { session: this.id });
    this.#app.events.emit('close', reason);
    return links;
  }
}
