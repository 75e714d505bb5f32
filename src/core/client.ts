// Close codes as checked literals: importing the CloseCode table would put all of it in the client bundle (-155 B gzip).
import type { CloseCode } from '../protocol/close-codes';
import type { ApiShape, AnyApi, RungName } from '../protocol/api';
import type { ClientEvents, ClientRole, ClientSetup, ConnectionState } from './client-types';
import type { AttemptRecord } from './attempt';
import { backoffDelay } from './backoff';
import { emitter } from '../util/emitter';
import { timers } from '../util/timers';
import { WirefallError } from '../protocol/errors';
import { DEV } from '../dev';
import { resolveTimings, type ClientOptions, type ResolvedTimings } from './options';
import { race, type Race, type RaceResult } from './race';
import { rungMemory } from './memory';
import type { Rung } from './rungs';
import { ladder } from './ladder';
import { ADOPT, CLIMB, CLIMB_DUE, CLOSE, CLOSED, DROP, FAILED, LOST, ONLINE, PING, PLAN_CLIMB, RACE, RACING, REFUSE, RETRY, STAY, TELL_ERROR, VISIBLE, WAIT, WON, publicState, reduce, type Effect, type Lifecycle, type LifecycleEvent } from './lifecycle';
import { liveLink, type LiveLink, type Subscribers } from './live-link';
import { clientSession, type ClientSession } from './client-session';
import type { ClientInternals } from './session-tap';
import { requests, type ArgOf, type ReplyOf, type RequestOptions, type RpcOf } from './request';

export type { ApiShape };
export type { ConnectionState, UndeliveredMessage, ClientEvents, ClientSetup, ClientRole } from './client-types';

type Backoff = Exclude<ResolvedTimings['backoff'], false>;
type Event = LifecycleEvent & { win?: RaceResult['win']; records?: AttemptRecord[]; error?: WirefallError };

/**
 * A realtime connection that survives hostile networks. Create it with `connect()`. It runs
 * three parts: the lifecycle (a pure reducer, ./lifecycle), the ladder policy (./ladder) and the
 * live link (./live-link); it commits each transition, runs its effects, then tells listeners.
 *
 * The object `connect` returns is the one `makeClient` builds below (closures over its state,
 * not `#fields`, which the bundle pays for at every use: scripts/size.mjs); the class, declared
 * only (no code: a constructor that forwarded to `makeClient` cost the bundle 20 B), gives it its
 * name, type and docs. So `client instanceof Client` is false, and its methods need no `this`.
 * @typeParam Api - what each side may send; see {@link ApiShape}.
 */
export declare class Client<Api extends ApiShape = AnyApi> {
  /** @internal Use `connect()`. */
  constructor(setup: ClientSetup, options: ClientOptions);
}

// The members, merged into the class's type: methods (not function-typed properties), so that a
// `Client<Chat>` is still usable where a `Client` is expected.
export interface Client<Api extends ApiShape = AnyApi> {
  /** `solo`: this context's own connection. A shared client (wirefall/share) says `leader` or `follower`. */
  readonly role: ClientRole;
  /** The connection state. */
  readonly state: ConnectionState;
  /** The rung in use while open, else null. */
  readonly rung: RungName | null;
  /** Every connection attempt so far, oldest first (the last 50). */
  readonly attempts: readonly AttemptRecord[];
  /** The last measured round-trip time in ms (from heartbeats), if any. */
  readonly rtt: number | undefined;
  /** Messages queued or awaiting acknowledgement, and their payload bytes. */
  readonly buffered: { messages: number; bytes: number };
  /**
   * Sends a message. Call order is kept on every rung. The promise resolves when the server has
   * acknowledged it and rejects with a `WirefallError` when it cannot be delivered
   * (`WF_TOO_LARGE`, `WF_OUTBOX_FULL`, `WF_CLOSED`, `WF_SESSION_LOST`, `WF_INVALID`). Sends of one
   * tick may share a promise, settled with the last of them (docs/protocol.md §4).
   */
  send<K extends keyof Api['client'] & string>(type: K, data: Api['client'][K]): Promise<void>;
  /**
   * Calls `name` (the API's `rpc`) on the server, whose `conn.handle(name, …)` runs once and replies once, across
   * cuts and rung changes. Rejects with `WF_REQUEST_FAILED` (`remoteCode`), `WF_TIMEOUT`, `WF_SESSION_LOST`, `WF_CLOSED`.
   */
  request<K extends keyof RpcOf<Api> & string>(name: K, args: ArgOf<Api, K>, options?: RequestOptions): Promise<ReplyOf<Api, K>>;
  /** Calls `handler` for every `type` message the server pushes; returns the unsubscribe function. */
  subscribe<K extends keyof Api['server'] & string>(type: K, handler: (data: Api['server'][K]) => void): () => void;
  /** Listens to a client event; returns the unsubscribe function. */
  on<E extends keyof ClientEvents>(event: E, listener: ClientEvents[E]): () => void;
  /** Resolves when the outbox is below half its high-water mark (at once if it is). */
  whenWritable(): Promise<void>;
  /** Closes the connection for good: unacknowledged sends reject with `WF_CLOSED`, every timer stops. */
  close(): void;
}

/** @internal The client `connect` returns (see `Client`). */
export function makeClient(setup: ClientSetup, options: ClientOptions): Client {
  const { rungs, platform } = setup;
  const { clock } = platform;
  const t = resolveTimings(options);
  // `above` and `resumable` start unset: the lifecycle reads them as flags.
  let life = { phase: RACING, rung: null, reconnect: t.backoff !== false, failures: 0 } as Lifecycle;
  const queue: Event[] = [];
  let busy = false;
  /** Emissions held back until the transition that caused them is committed. */
  const told: (() => void)[] = [];
  let attempts: AttemptRecord[] = [];
  /** Attempts not yet reported to the server (the `report` frame, once per connection). */
  let fresh: AttemptRecord[] = [];
  let current: Race | undefined;
  let link: LiveLink | undefined;
  /** When the last race began: how long the session has been connected (`lost`'s `stable`). */
  let racedAt = 0;
  const timer = timers<'retry' | 'climb'>(clock);
  const lad = ladder(rungs, t.rememberRungMs > 0 ? rungMemory(setup.serverKey, platform.storage, t.rememberRungMs) : undefined, clock.now);

  /** Tells listeners, once the transition under way (if any) is committed. */
  const tell = <E extends keyof ClientEvents>(event: E, ...args: Parameters<ClientEvents[E]>): void => {
    if (busy) told.push(() => events.emit(event, ...args));
    else events.emit(event, ...args);
  };
  // A throwing listener must not break the transition that told it: report it instead. What an
  // `error` listener throws is dropped, since reporting it there again could recurse.
  const events = emitter<ClientEvents>((cause, event) => {
    if (event !== 'error') tell('error', new WirefallError('WF_INVALID', DEV ? `a "${event}" listener threw` : '', { cause }));
  });
  // A throwing subscriber must not break delivery to the others, nor the connection.
  const handlers: Subscribers = emitter((cause, type) => tell('error', new WirefallError('WF_INVALID', DEV ? `a "${String(type)}" subscriber threw` : '', { cause })));
  const s = clientSession(t, options.auth, (high, bytes) => tell('backpressure', high, bytes));
  const rpc = requests(clock, handlers, (type, encoded) => s.push(type, null, encoded));
  const index = lad.rankOf;
  /** What every live link shares, and what a sharing layer reaches (ClientInternals): the session itself, not three objects. */
  const host: ClientInternals = Object.assign(s, {
    clock,
    answerDeadline: t.answerDeadline,
    deliver: (_, ev, data) => handlers.emit(ev, data),
    lost: (error, rung) => {
      // WF_STALLED or WF_UPLINK_STALLED (no other code ends so).
      if (error.code.endsWith('STALLED')) lad.stalled(index(rung));
      // Stable: a second passed since the race that found it began (a climb does not restart the
      // clock). From the race's start, not its win: the same bound on the reconnect rate, less code.
      dispatch({ type: LOST, error, stable: clock.now() - racedAt > 1e3 });
    },
    error: (error: WirefallError) => tell('error', error),
    wake: (urgent?: boolean) => link?.write(urgent),
    // A tab handing its connection over leaves the session for the next leader (src/share: 1001).
    bye: 1000 satisfies typeof CloseCode.Normal,
  } satisfies Omit<ClientInternals, Exclude<keyof ClientSession, 'wake'>>);

  /** Commits each transition, runs its effects, and only then tells listeners (TanStack Query's `#dispatch`). */
  function dispatch(e: Event): void {
    queue.push(e);
    if (busy) return; // raised by an effect or a listener: it follows the current transition
    busy = true;
    try {
      for (let ev; (ev = queue.shift()); ) {
        // State and rung as one string: unambiguous, since no state's name begins another's.
        const was = client.state + life.rung;
        const [state, effects] = reduce(life, ev);
        life = state;
        for (const fx of effects) run(fx, ev);
        if (client.state + life.rung !== was) tell('state', client.state, life.rung);
        for (let f; (f = told.shift()); ) f();
      }
    } finally {
      busy = false;
    }
  }

  function run(fx: Effect, e: Event): void {
    if (fx === RACE) {
      timer('retry');
      racedAt = clock.now();
      const [start, cold] = lad.startOf(!s.id);
      // Cold (a first connection, nothing remembered): the first HTTP rung starts at once too.
      newRace(rungs.slice(start), (r) => {
        if (r.win) return won(r);
        // A 401 may be an expired token: one more race with fresh credentials before giving up.
        if (r.fatal && s.retryAuth(r.error)) return run(RACE, e);
        lad.raceFailed(start);
        dispatch({ type: FAILED, error: r.error ?? new WirefallError('WF_NETWORK', DEV ? 'no rung connected' : ''), fatal: !!r.fatal });
      }, t.early && cold);
    } else if (fx === ADOPT) adopt(e);
    else if (fx === PLAN_CLIMB) {
      if (!t.climb) return;
      timer('climb', () => dispatch({ type: CLIMB_DUE }), lad.climbIn(t.climb));
    } else if (fx === CLIMB) {
      lad.climbed();
      // The climb resumes the session on the better rung: if it verifies, the move is already done.
      newRace(rungs.slice(0, index(life.rung!)), (r) => {
        lad.climbed(!!r.win);
        if (r.win) won(r);
        else dispatch({ type: STAY });
      });
    } else if (fx === DROP) drop(4009 satisfies typeof CloseCode.HeartbeatTimeout);
    else if (fx === TELL_ERROR) tell('error', e.error!);
    // Only a client that reconnects (`backoff` not false: the lifecycle's `reconnect`) waits.
    else if (fx === WAIT) timer('retry', () => dispatch({ type: RETRY }), backoffDelay(life.failures - 1, t.backoff as Backoff, platform.random));
    else if (fx === PING) link?.ping();
    else {
      // end, refuse: nothing reconnects after this.
      drop(host.bye);
      timer();
      unwake();
      s.end(fx === REFUSE ? e.error! : new WirefallError('WF_CLOSED', DEV ? 'client closed' : ''));
      rpc.end(true);
    }
  }

  function newRace(among: Rung[], done: (r: RaceResult) => void, early?: boolean): void {
    current = race(setup, t, s.hello(platform.nonce()), among, (r) => {
      current = undefined;
      attempts = [...attempts, ...r.records].slice(-50);
      fresh = [...fresh, ...r.records].slice(-50); // bounded: a server that takes no reports
      for (const record of r.records) tell('attempt', record);
      done(r);
    }, early);
  }

  function won({ win, records }: RaceResult): void {
    const rung = win!.rung.name;
    dispatch({ type: WON, rung, above: index(rung) > 0, win, records });
  }

  /** The race (or climb) winner becomes the live link; the server already detached the old one. */
  function adopt({ win, records }: Event): void {
    const welcome = win!.welcome!;
    lad.won(index(win!.rung.name), records!);
    drop(4409 satisfies typeof CloseCode.Replaced);
    // The welcome first: a new session (the old one lost) resets the inbox, and the link's claim
    // acknowledges what the inbox holds then, not what the lost session had delivered.
    const lost = s.welcome(welcome, clock.now());
    const l = (link = liveLink(win!.transport, win!.rung.name, welcome, host,
      // The attempts that led here, for the server's metrics (protocol.md §4.1), if it takes them.
      welcome.rep ? fresh.splice(0).slice(-welcome.rep).map((a) => [a.rung, a.outcome, a.duration, a.reason]) : undefined));
    win!.handOver(l);
    if (lost === false) return l.close({ code: 'WF_PROTOCOL', message: DEV ? 'welcome acks unsent messages, or resumes another session' : '' });
    if (lost) {
      tell('error', new WirefallError('WF_SESSION_LOST', DEV ? `session lost; ${lost.length} unacked` : ''));
      tell('sessionlost', lost);
      rpc.end(false);
    }
    l.start(win!.rest);
  }

  function drop(code: number): void {
    current?.();
    current = undefined;
    timer('climb');
    link?.stop(code);
  }

  const client = {
    role: 'solo',
    get state() {
      return publicState(life);
    },
    get rung() {
      return life.rung;
    },
    get attempts() {
      return attempts;
    },
    get rtt() {
      return link?.rtt;
    },
    get buffered() {
      return { messages: s.outbox.q.length, bytes: s.outbox.bytes };
    },
    send: (type: string, data: unknown) => s.push(type, data),
    request: rpc.request,
    subscribe: handlers.on,
    on: events.on,
    whenWritable: s.whenWritable,
    close: () => dispatch({ type: CLOSE }),
  };
  setup.hook?.(host);
  const unwake = platform.onWake((reason) => {
    // A new network: what we learned about the old one no longer holds.
    if (reason === 'online') lad.newNetwork();
    dispatch({ type: reason === 'online' ? ONLINE : VISIBLE });
  });
  run(RACE, { type: RETRY });
  return client as unknown as Client;
}
