import type { ApiShape, AnyApi, RungName } from '../protocol/api';
import { CloseCode } from '../protocol/close-codes';
import type { Platform } from '../platform';
import type { ClientEvents, ClientRole, ClientSetup, ConnectionState } from './client-types';
import type { Attempt, AttemptRecord } from './attempt';
import { backoffDelay } from './backoff';
import { Emitter } from '../util/emitter';
import { Timers } from '../util/timers';
import { WirefallError } from '../protocol/errors';
import { DEV } from '../dev';
import { resolveTimings, type ClientOptions, type ResolvedTimings } from './options';
import { race, type Race, type RaceResult } from './race';
import { rungMemory, type RungMemory } from './memory';
import type { Rung } from './rungs';
import * as ladder from './ladder';
import { publicState, reduce, type Effect, type Lifecycle, type LifecycleEvent } from './lifecycle';
import { LiveLink, type Subscribers } from './live-link';
import { ClientSession } from './client-session';
import { Requests, type ArgOf, type Encoded, type ReplyOf, type RequestOptions, type RpcOf } from './request';

export type { ApiShape };
export type { ConnectionState, UndeliveredMessage, ClientEvents, ClientSetup, ClientRole } from './client-types';

type Event = LifecycleEvent & { win?: Attempt; records?: AttemptRecord[]; error?: WirefallError };

/**
 * A realtime connection that survives hostile networks. Create it with `connect()`. It runs
 * three parts: the lifecycle (a pure reducer, ./lifecycle), the ladder policy (./ladder) and the
 * live link (./live-link); it commits each transition, runs its effects, then tells listeners.
 * @typeParam Api - what each side may send; see {@link ApiShape}.
 */
export class Client<Api extends ApiShape = AnyApi> {
  #life: Lifecycle;
  #queue: Event[] = [];
  #busy = false;
  /** Emissions held back until the transition that caused them is committed. */
  #told: (() => void)[] = [];
  #attempts: AttemptRecord[] = [];
  /** Attempts not yet reported to the server (the `report` frame, once per connection). */
  #fresh: AttemptRecord[] = [];
  // A throwing listener must not break the transition that told it: report it instead. What an
  // `error` listener throws is dropped, since reporting it there again could recurse.
  #events: Emitter<ClientEvents> = new Emitter((cause, event) => {
    if (event !== 'error') this.#tell('error', new WirefallError('WF_INVALID', DEV ? `a "${event}" listener threw` : '', { cause }));
  });
  // A throwing subscriber must not break delivery to the others, nor the connection.
  #handlers: Subscribers = new Emitter((cause, type) => this.#tell('error', new WirefallError('WF_INVALID', DEV ? `a "${String(type)}" subscriber threw` : '', { cause })));
  #setup: ClientSetup;
  #clock: Platform['clock'];
  #t: ResolvedTimings;
  #s: ClientSession;
  #race: Race | undefined;
  #link: LiveLink | undefined;
  #timers: Timers<'retry' | 'climb'>;
  #unwake: () => void;
  #memory: RungMemory | undefined;
  #ladder = ladder.freshLadder();
  #rpc: Requests;

  /** @internal Use `connect()`. */
  constructor(setup: ClientSetup, options: ClientOptions) {
    this.#setup = setup;
    this.#clock = setup.platform.clock;
    this.#timers = new Timers(this.#clock);
    this.#rpc = new Requests(this.#clock, this.#handlers, (type, encoded) => this.#push(type, null, encoded));
    this.#t = resolveTimings(options);
    this.#s = new ClientSession(this.#t, options.auth, (high, bytes) => this.#tell('backpressure', high, bytes), setup.tap, () => this.#link?.write(false));
    this.#life = { phase: 'racing', rung: null, above: false, resumable: false, reconnect: this.#t.backoff !== false, failures: 0 };
    if (this.#t.rememberRungMs > 0) this.#memory = rungMemory(setup.serverKey, setup.platform.storage, this.#t.rememberRungMs);
    this.#unwake = setup.platform.onWake((reason) => {
      // A new network: what we learned about the old one no longer holds.
      if (reason === 'online') this.#learn(ladder.newNetwork(this.#ladder));
      this.#dispatch({ type: reason });
    });
    this.#run('race', { type: 'retry' });
  }

  /** `solo`: this context's own connection. A shared client (wirefall/share) says `leader` or `follower`. */
  get role(): ClientRole {
    return 'solo';
  }
  /** The connection state. */
  get state(): ConnectionState { return publicState(this.#life); }
  /** The rung in use while open, else null. */
  get rung(): RungName | null { return this.#life.rung; }
  /** Every connection attempt so far, oldest first (the last 50). */
  get attempts(): readonly AttemptRecord[] { return this.#attempts; }
  /** The last measured round-trip time in ms (from heartbeats), if any. */
  get rtt(): number | undefined { return this.#link?.rtt; }
  /** Messages queued or awaiting acknowledgement, and their payload bytes. */
  get buffered(): { messages: number; bytes: number } { return { messages: this.#s.outbox.size, bytes: this.#s.outbox.bytes }; }

  /**
   * Sends a message. Call order is kept on every rung. The promise resolves when the server has
   * acknowledged it and rejects with a `WirefallError` when it cannot be delivered
   * (`WF_TOO_LARGE`, `WF_OUTBOX_FULL`, `WF_CLOSED`, `WF_SESSION_LOST`, `WF_INVALID`).
   */
  send<K extends keyof Api['client'] & string>(type: K, data: Api['client'][K]): Promise<void> {
    return this.#push(type, data);
  }

  /**
   * Calls `name` (the API's `rpc`) on the server, whose `conn.handle(name, …)` runs once and replies once, across
   * cuts and rung changes. Rejects with `WF_REQUEST_FAILED` (`remoteCode`), `WF_TIMEOUT`, `WF_SESSION_LOST`, `WF_CLOSED`.
   */
  request<K extends keyof RpcOf<Api> & string>(name: K, args: ArgOf<Api, K>, options?: RequestOptions): Promise<ReplyOf<Api, K>> {
    return this.#rpc.request(name, args, options) as Promise<ReplyOf<Api, K>>;
  }

  #push(type: string, data: unknown, encoded?: Encoded): Promise<void> {
    const p = this.#s.push(type, data, this.#life.phase === 'closed', encoded);
    this.#link?.write(this.#s.outbox.unsent >= 256);
    return p;
  }

  /** Calls `handler` for every `type` message the server pushes; returns the unsubscribe function. */
  subscribe<K extends keyof Api['server'] & string>(type: K, handler: (data: Api['server'][K]) => void): () => void {
    return this.#handlers.on(type, handler as (data: unknown) => void);
  }

  /** Listens to a client event; returns the unsubscribe function. */
  on<E extends keyof ClientEvents>(event: E, listener: ClientEvents[E]): () => void {
    return this.#events.on(event, listener);
  }

  /** Resolves when the outbox is below half its high-water mark (at once if it is). */
  whenWritable(): Promise<void> { return this.#s.whenWritable(); }

  /** Closes the connection for good: unacknowledged sends reject with `WF_CLOSED`, every timer stops. */
  close(): void { this.#dispatch({ type: 'close' }); }

  /** Commits each transition, runs its effects, and only then tells listeners (TanStack Query's `#dispatch`). */
  #dispatch(e: Event): void {
    this.#queue.push(e);
    if (this.#busy) return; // raised by an effect or a listener: it follows the current transition
    this.#busy = true;
    try {
      for (let ev; (ev = this.#queue.shift()); ) {
        const was = [this.state, this.rung];
        const { state, effects } = reduce(this.#life, ev);
        this.#life = state;
        for (const fx of effects) this.#run(fx, ev);
        if (this.state !== was[0] || this.rung !== was[1]) this.#tell('state', this.state, this.rung);
        for (let tell; (tell = this.#told.shift()); ) tell();
      }
    } finally {
      this.#busy = false;
    }
  }

  #tell<E extends keyof ClientEvents>(event: E, ...args: Parameters<ClientEvents[E]>): void {
    if (this.#busy) this.#told.push(() => this.#events.emit(event, ...args));
    else this.#events.emit(event, ...args);
  }

  #run(fx: Effect, e: Event): void {
    const { rungs } = this.#setup;
    if (fx === 'race') {
      this.#timers.set('retry');
      const recalled = this.#s.exists ? undefined : this.#memory?.recall(this.#clock.now());
      const start = ladder.startIndex(this.#ladder, recalled && this.#index(recalled), rungs.length, this.#clock.now());
      // Cold (a first connection, nothing remembered): the first HTTP rung starts at once too.
      this.#race = this.#newRace(rungs.slice(start), (r) => {
        if (r.win) return this.#won(r);
        // A 401 may be an expired token: one more race with fresh credentials before giving up.
        if (r.fatal && this.#s.retryAuth(r.error)) return this.#run('race', e);
        this.#learn(ladder.raceFailed(this.#ladder, start));
        this.#dispatch({ type: 'failed', error: r.error ?? new WirefallError('WF_NETWORK', DEV ? 'no rung connected' : ''), fatal: !!r.fatal });
      }, this.#t.early && !this.#s.exists && !recalled);
    } else if (fx === 'adopt') this.#adopt(e.win!, e.records!);
    else if (fx === 'plan-climb') {
      if (!this.#t.climb) return;
      const now = this.#clock.now();
      this.#ladder = ladder.climbAt(this.#ladder, now, this.#t.climb);
      this.#timers.set('climb', () => this.#dispatch({ type: 'climb' }), this.#ladder.climbDue - now);
    } else if (fx === 'climb') {
      this.#ladder = ladder.climbed(this.#ladder);
      // The climb resumes the session on the better rung: if it verifies, the move is already done.
      this.#race = this.#newRace(rungs.slice(0, this.#index(this.#life.rung!)), (r) => {
        this.#ladder = ladder.climbed(this.#ladder, !!r.win);
        if (r.win) this.#won(r);
        else this.#dispatch({ type: 'stay' });
      });
    } else if (fx === 'drop') this.#drop(CloseCode.HeartbeatTimeout);
    else if (fx === 'error') this.#tell('error', e.error!);
    else if (fx === 'wait') this.#timers.set('retry', () => this.#dispatch({ type: 'retry' }), backoffDelay(this.#life.failures - 1, this.#t.backoff || { base: 0, max: 0 }, this.#setup.platform.random));
    else if (fx === 'ping') this.#link?.ping();
    else {
      // end, refuse: nothing reconnects after this.
      // A tab handing its connection over leaves the session for the next leader (src/share).
      this.#drop(this.#setup.tap?.keepSession?.() ? CloseCode.GoingAway : CloseCode.Normal);
      this.#timers.clear();
      this.#unwake();
      this.#s.end(fx === 'refuse' ? e.error! : new WirefallError('WF_CLOSED', DEV ? 'client closed' : ''));
      this.#rpc.closed();
    }
  }

  #newRace(rungs: Rung[], done: (r: RaceResult) => void, early?: boolean): Race {
    return race(this.#setup, this.#t, this.#s.hello(this.#setup.platform.nonce()), rungs, (r) => {
      this.#race = undefined;
      this.#attempts = [...this.#attempts, ...r.records].slice(-50);
      this.#fresh = [...this.#fresh, ...r.records].slice(-50); // bounded: a server that takes no reports
      for (const record of r.records) this.#tell('attempt', record);
      done(r);
    }, early);
  }

  #won({ win, records }: RaceResult): void {
    const rung = win!.rung.name;
    this.#dispatch({ type: 'won', rung, above: this.#index(rung) > 0, win, records });
  }

  #index(rung: RungName): number {
    return this.#setup.rungs.findIndex((r) => r.name === rung);
  }

  /** Applies what the ladder policy concluded, and what it tells the rung memory. */
  #learn([next, memory]: [ladder.Ladder, ladder.MemoryAction]): void {
    this.#ladder = next;
    if (memory === 'forget') this.#memory?.forget();
    else if (memory) this.#memory?.remember(this.#setup.rungs[memory.remember]!.name, this.#clock.now());
  }

  /** The race (or climb) winner becomes the live link; the server already detached the old one. */
  #adopt(attempt: Attempt, records: AttemptRecord[]): void {
    const welcome = attempt.welcome!;
    this.#learn(ladder.won(this.#ladder, this.#index(attempt.rung.name), records, (a) => this.#index(a.rung)));
    this.#drop(CloseCode.Replaced);
    // The welcome first: a new session (the old one lost) resets the inbox, and the link's claim
    // acknowledges what the inbox holds then, not what the lost session had delivered.
    const lost = this.#s.welcome(welcome, this.#clock.now());
    const { inbox, outbox } = this.#s;
    const link = (this.#link = new LiveLink(attempt.transport, attempt.rung.name, {
      clock: this.#clock, inbox, outbox, hb: welcome.hb, max: welcome.max, bin: welcome.bin === 1, pa: welcome.pa, run: welcome.run, answerDeadline: this.#t.answerDeadline, handlers: this.#handlers, delivered: this.#setup.tap?.delivered,
      // The attempts that led here, for the server's metrics (protocol.md §4.1), if it takes them.
      report: welcome.rep ? this.#fresh.splice(0).slice(-welcome.rep).map((a) => [a.rung, a.outcome, a.duration, a.reason]) : undefined,
      host: {
        lost: (error) => {
          if (error.code === 'WF_STALLED' || error.code === 'WF_UPLINK_STALLED') this.#learn(ladder.stalled(this.#ladder, this.#index(link.rung), this.#clock.now(), this.#setup.rungs.length));
          this.#dispatch({ type: 'lost', error });
        },
        error: (error) => this.#tell('error', error),
        acked: () => this.#s.checkWater(),
      },
    }));
    attempt.handOver({ frames: (f) => link.frames(f), close: (f) => link.fail(f) });
    if (lost === false) return link.fail({ code: 'WF_PROTOCOL', message: DEV ? 'welcome acks unsent messages' : '' });
    if (lost) {
      this.#tell('error', new WirefallError('WF_SESSION_LOST', DEV ? `session lost; ${lost.length} unacked` : ''));
      this.#tell('sessionlost', lost);
      this.#rpc.sessionLost();
    }
    link.start(attempt.rest);
  }

  #drop(code: number): void {
    this.#race?.();
    this.#race = undefined;
    this.#timers.set('climb');
    this.#link?.stop(code);
  }
}
