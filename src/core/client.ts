import { PROTOCOL_VERSION, type Frame, type HelloFrame, type WelcomeFrame } from '../protocol/frames';
import { CloseCode } from '../protocol/close-codes';
import type { Platform } from '../platform';
import type { TransportFactory, TransportFailure } from '../transports/transport';
import type { Transport } from '../transports/transport';
import { Attempt, type AttemptRecord } from './attempt';
import { backoffDelay } from './backoff';
import { Emitter } from './emitter';
import { WirefallError, type ErrorCode } from './errors';
import { Inbox } from './inbox';
import { checkLiveness } from './liveness';
import { resolveTimings, type ClientOptions, type ResolvedTimings } from './options';
import { Outbox, utf8Length } from './outbox';
import { Race, type RaceResult, type RaceWin } from './race';
import { RungMemory } from './memory';
import type { Rung, RungName } from './rungs';

/**
 * What a client may send and what its server may push: message names mapped to data shapes.
 * @example
 * type Chat = {
 *   client: { say: { text: string } };
 *   server: { said: { from: string; text: string } };
 * };
 */
export interface ApiShape {
  client: object;
  server: object;
}

/** `connecting`: first connection; `open`: verified and usable; `reconnecting`: lost it, trying again; `closed`: for good. */
export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'closed';

/** A message the server never acknowledged before it lost the session. */
export interface UndeliveredMessage {
  type: string;
  data: unknown;
}

export interface ClientEvents {
  /** The state or the rung in use changed. */
  state: (state: ConnectionState, rung: RungName | null) => void;
  /** Every error, retryable or not. Nothing is swallowed. */
  error: (error: WirefallError) => void;
  /** The server no longer knew the session: these messages may not have arrived; resynchronise. */
  sessionlost: (undelivered: UndeliveredMessage[]) => void;
  /** The outbox crossed its high-water mark (`true`) or drained below half of it (`false`). */
  backpressure: (high: boolean, bufferedBytes: number) => void;
}

type Handler = (data: never) => void;

/** @internal The rungs and transports a client runs on, decided by `connect`. */
export interface ClientSetup {
  /** The whole ladder, best rung first. */
  rungs: Rung[];
  /** Identifies the server for the rung memory. */
  serverKey: string;
  factories: Partial<Record<RungName, TransportFactory>>;
  platform: Platform;
}

/**
 * A realtime connection that survives hostile networks. Create it with `connect()`.
 * @typeParam Api - what each side may send; see {@link ApiShape}.
 */
export class Client<Api extends ApiShape = { client: Record<string, unknown>; server: Record<string, unknown> }> {
  #state: ConnectionState = 'connecting';
  #rung: RungName | null = null;
  #attempts: AttemptRecord[] = [];
  #events = new Emitter<ClientEvents>();
  #handlers = new Map<string, Set<Handler>>();

  #setup: ClientSetup;
  #clock: Platform['clock'];
  #t: ResolvedTimings;
  #auth: ClientOptions['auth'];

  #outbox: Outbox;
  #inbox = new Inbox();
  #session: { sid: string; key: string } | undefined;
  #max = 1024 * 1024;
  #hb = 5000;

  #race: Race | undefined;
  #transport: Transport | undefined;
  #retryTimer: unknown;
  #livenessTimer: unknown;
  #pingTimer: unknown;
  #ackTimer: unknown;
  #failures = 0;
  #flushQueued = false;
  #control: string[] = [];
  #lastReceived = 0;
  #lastAnswered = 0;
  #ping: { n: number; at: number } | undefined;
  #pingSeq = 0;
  #rtt: number | undefined;
  #highWater = false;
  #drainWaiters: (() => void)[] = [];
  #unwake: () => void;

  #memory: RungMemory | undefined;
  /** Index of the highest rung a race may start from (rungs above stalled repeatedly). */
  #floor = 0;
  /** The best ladder index verified during this client's life. */
  #best = Infinity;
  #stalls: number[] = [];
  #probeRace: Race | undefined;
  #probeTimer: unknown;
  #probeFailures = 0;

  /** @internal Use `connect()`. */
  constructor(setup: ClientSetup, options: ClientOptions) {
    this.#setup = setup;
    this.#clock = setup.platform.clock;
    this.#t = resolveTimings(options);
    this.#auth = options.auth;
    this.#outbox = new Outbox({ maxMessages: this.#t.maxMessages, maxBytes: this.#t.maxBytes });
    if (this.#t.rememberRungMs > 0) this.#memory = new RungMemory(setup.serverKey, setup.platform.storage, this.#t.rememberRungMs);
    this.#unwake = setup.platform.onWake((reason) => this.#wake(reason));
    this.#connect();
  }

  /** The connection state. */
  get state(): ConnectionState {
    return this.#state;
  }
  /** The rung in use while open, else null. */
  get rung(): RungName | null {
    return this.#rung;
  }
  /** Every connection attempt so far, oldest first (the last 50). */
  get attempts(): readonly AttemptRecord[] {
    return this.#attempts;
  }
  /** The last measured round-trip time in ms (from heartbeats), if any. */
  get rtt(): number | undefined {
    return this.#rtt;
  }
  /** Messages queued or awaiting acknowledgement, and their payload bytes. */
  get buffered(): { messages: number; bytes: number } {
    return { messages: this.#outbox.size, bytes: this.#outbox.bytes };
  }

  /**
   * Sends a message. Call order is kept on every rung. The promise resolves when the server has
   * acknowledged it and rejects with a `WirefallError` when it cannot be delivered
   * (`WF_TOO_LARGE`, `WF_OUTBOX_FULL`, `WF_CLOSED`, `WF_SESSION_LOST`).
   */
  send<K extends keyof Api['client'] & string>(type: K, data: Api['client'][K]): Promise<void> {
    if (this.#state === 'closed') return Promise.reject(new WirefallError('WF_CLOSED', 'the client is closed'));
    let payload: string | undefined;
    try {
      payload = JSON.stringify(data);
    } catch (cause) {
      return Promise.reject(new WirefallError('WF_INVALID', `data of "${type}" is not JSON-serialisable`, { cause }));
    }
    if (payload === undefined) payload = 'null';
    if (typeof type !== 'string' || type === '') {
      return Promise.reject(new WirefallError('WF_INVALID', 'message type must be a non-empty string'));
    }
    const bytes = utf8Length(payload);
    if (bytes > this.#max) {
      return Promise.reject(new WirefallError('WF_TOO_LARGE', `"${type}" is ${bytes} bytes; the server accepts ${this.#max}`));
    }
    const p = this.#outbox.push(type, payload);
    this.#checkWater();
    this.#scheduleFlush();
    return p;
  }

  /** Calls `handler` for every `type` message the server pushes; returns the unsubscribe function. */
  subscribe<K extends keyof Api['server'] & string>(type: K, handler: (data: Api['server'][K]) => void): () => void {
    let set = this.#handlers.get(type);
    if (!set) this.#handlers.set(type, (set = new Set()));
    const h = handler as Handler;
    set.add(h);
    return () => {
      set.delete(h);
    };
  }

  /** Listens to a client event; returns the unsubscribe function. */
  on<E extends keyof ClientEvents>(event: E, listener: ClientEvents[E]): () => void {
    return this.#events.on(event, listener);
  }

  /** Resolves when the outbox is below half its high-water mark (at once if it is). */
  whenWritable(): Promise<void> {
    if (!this.#highWater) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  /** Closes the connection for good: unacknowledged sends reject with `WF_CLOSED`, every timer stops. */
  close(): void {
    if (this.#state === 'closed') return;
    this.#race?.cancel();
    this.#race = undefined;
    this.#cancelProbe();
    this.#dropTransport(CloseCode.Normal, 'client closed');
    this.#stopTimers();
    this.#unwake();
    this.#setState('closed', null);
    this.#outbox.rejectAll(new WirefallError('WF_CLOSED', 'the client was closed before the server acknowledged'));
    this.#releaseDrainWaiters();
  }

  // --- connecting ---------------------------------------------------------------------------

  #hello(): string {
    const hello: HelloFrame = { t: 'hello', v: PROTOCOL_VERSION };
    if (this.#session) {
      hello.sid = this.#session.sid;
      hello.key = this.#session.key;
      hello.ack = this.#inbox.received;
    }
    const auth = typeof this.#auth === 'function' ? (this.#auth as () => unknown)() : this.#auth;
    if (auth !== undefined) hello.auth = auth;
    return JSON.stringify(hello);
  }

  #connect(): void {
    this.#retryTimer = undefined;
    const start = this.#startIndex();
    this.#race = this.#newRace(this.#setup.rungs.slice(start), (result) => this.#raceDone(result, start));
  }

  #newRace(rungs: Rung[], done: (r: RaceResult) => void): Race {
    const hello = this.#hello();
    const { platform, factories } = this.#setup;
    const timeouts = { open: this.#t.openTimeout, welcome: this.#t.welcomeTimeout };
    return new Race(
      rungs,
      this.#t.stagger,
      this.#clock,
      (rung, onVerified, onFailed) => {
        const factory = factories[rung.name];
        if (!factory) throw new WirefallError('WF_INVALID', `no transport for rung ${rung.name}`);
        return new Attempt(rung, factory, hello, platform, timeouts, onVerified, onFailed);
      },
      done,
    );
  }

  /** Where a race starts: the remembered rung, or below rungs that stalled repeatedly. */
  #startIndex(): number {
    const all = this.#setup.rungs;
    const remembered = this.#memory?.recall(this.#clock.now());
    const at = remembered ? all.findIndex((r) => r.name === remembered) : -1;
    return Math.min(Math.max(at, this.#floor, 0), all.length - 1);
  }

  #index(rung: RungName): number {
    return this.#setup.rungs.findIndex((r) => r.name === rung);
  }

  #record(records: AttemptRecord[]): void {
    this.#attempts.push(...records);
    if (this.#attempts.length > 50) this.#attempts.splice(0, this.#attempts.length - 50);
  }

  #raceDone(r: RaceResult, start: number): void {
    this.#race = undefined;
    this.#record(r.records);
    if (r.win) {
      this.#learn(this.#index(r.win.attempt.rung.name), r.records);
      return this.#adopt(r.win);
    }
    if (start > 0) {
      // Even the remembered (or demoted-to) rung failed: the network changed; start from the top.
      this.#memory?.forget();
      this.#floor = 0;
    }
    const err = r.error ?? new WirefallError('WF_NETWORK', 'no rung could connect');
    this.#events.emit('error', err);
    if (r.fatal) {
      // The server itself refused (auth, version): retrying the same request would be refused too.
      this.#outbox.rejectAll(err);
      this.#stopTimers();
      this.#unwake();
      this.#setState('closed', null);
      return;
    }
    this.#scheduleRetry();
  }

  #scheduleRetry(): void {
    if (this.#state === 'closed') return;
    if (this.#t.backoff === false) return this.close();
    this.#setState(this.#session || this.#state === 'reconnecting' ? 'reconnecting' : 'connecting', null);
    const delay = backoffDelay(this.#failures++, this.#t.backoff, this.#setup.platform.random);
    this.#retryTimer = this.#clock.setTimeout(() => this.#connect(), delay);
  }

  /**
   * Decides what a won race teaches the rung memory. A lower rung is remembered only on evidence
   * that the rungs above are broken (refused, or still stuck long after the winner verified),
   * not when they were merely slow or cut once, and not when a better rung worked earlier in this client's life (a server
   * restart refuses every rung for a moment: that must not push the whole fleet down).
   */
  #learn(index: number, records: AttemptRecord[]): void {
    const now = this.#clock.now();
    if (index === 0) this.#memory?.forget();
    else {
      const won = records.find((a) => a.outcome === 'verified')?.duration ?? 0;
      const above = records.filter((a) => this.#index(a.rung) < index);
      const broken =
        above.length > 0 &&
        above.every((a) =>
          a.outcome === 'failed'
            ? a.reason !== 'WF_DISCONNECTED' // a cut is bad luck, not a verdict on the rung
            : a.duration > 4 * won + 100, // still stuck long after the winner verified: it hangs
        );
      if (broken && this.#best >= index) this.#memory?.remember(this.#setup.rungs[index]!.name, now);
    }
    this.#best = Math.min(this.#best, index);
  }

  #adopt(win: RaceWin): void {
    const { attempt, welcome, rest } = win;
    const now = this.#clock.now();
    // A probe won: the session moves here; the server already detached the old link.
    this.#dropTransport(CloseCode.Replaced, 'moved to another rung');
    this.#stopLiveTimers();
    this.#transport = attempt.transport;
    attempt.handOver({
      frames: (frames) => this.#frames(frames),
      close: (f) => this.#lost(f),
    });
    this.#failures = 0;
    this.#lastReceived = this.#lastAnswered = now;
    this.#ping = undefined;
    this.#setState('open', attempt.rung.name);
    this.#startSession(welcome);
    if (this.#state !== 'open') return;
    this.#armPing();
    this.#armLiveness();
    if (rest.length) this.#frames(rest);
    this.#scheduleFlush();
    this.#scheduleProbe();
  }

  // --- climbing back up ---------------------------------------------------------------------

  /** On a lower rung, try the ones above now and then; backoff doubles after each failure. */
  #scheduleProbe(): void {
    const p = this.#t.probe;
    this.#clock.clearTimeout(this.#probeTimer);
    this.#probeTimer = undefined;
    if (!p || this.#state !== 'open' || !this.#rung || this.#index(this.#rung) <= 0 || this.#probeRace) return;
    const delay = Math.min(p.max, p.first * 2 ** Math.min(this.#probeFailures, 20));
    this.#probeTimer = this.#clock.setTimeout(() => this.#probe(), delay);
  }

  #probe(): void {
    this.#probeTimer = undefined;
    if (this.#state !== 'open' || !this.#rung || this.#probeRace) return;
    const above = this.#setup.rungs.slice(0, this.#index(this.#rung));
    if (above.length === 0) return;
    // The probe resumes the session on the better rung: if it verifies, the move is already done.
    this.#probeRace = this.#newRace(above, (r) => {
      this.#probeRace = undefined;
      this.#record(r.records);
      if (r.win && this.#state === 'open') {
        this.#probeFailures = 0;
        const index = this.#index(r.win.attempt.rung.name);
        if (index === 0) this.#memory?.forget();
        else this.#memory?.remember(r.win.attempt.rung.name, this.#clock.now());
        this.#best = Math.min(this.#best, index);
        this.#floor = Math.min(this.#floor, index);
        return this.#adopt(r.win);
      }
      r.win?.attempt.transport.close(CloseCode.Abandoned, 'probe not needed');
      this.#probeFailures++;
      // The probe took the session away from the old link and then failed: reconnect.
      if (!this.#transport && this.#state === 'open') return this.#lost({ code: 'WF_DISCONNECTED', message: 'the session moved to a probe that failed' });
      this.#scheduleProbe();
    });
  }

  #cancelProbe(): void {
    this.#clock.clearTimeout(this.#probeTimer);
    this.#probeTimer = undefined;
    this.#probeRace?.cancel();
    this.#probeRace = undefined;
  }

  #startSession(w: WelcomeFrame): void {
    this.#hb = w.hb;
    this.#max = w.max;
    const now = this.#clock.now();
    if (w.resumed) {
      if (!this.#outbox.ack(w.ack, now)) return this.#lost({ code: 'WF_PROTOCOL', message: 'welcome acknowledges messages never sent' });
      this.#inbox.resumed();
    } else {
      if (this.#session) {
        const lost = this.#outbox.restart(
          new WirefallError('WF_SESSION_LOST', 'the server lost the session before acknowledging this message'),
        );
        this.#inbox.reset();
        this.#events.emit(
          'error',
          new WirefallError('WF_SESSION_LOST', `the server no longer knew the session; ${lost.length} message(s) may not have arrived`),
        );
        this.#events.emit('sessionlost', lost.map((e) => ({ type: e.ev, data: JSON.parse(e.payload) as unknown })));
      }
      this.#inbox.reset();
    }
    this.#session = { sid: w.sid, key: w.key };
    this.#outbox.rewind();
  }

  // --- the live connection ------------------------------------------------------------------

  #frames(frames: Frame[]): void {
    const now = this.#clock.now();
    this.#lastReceived = now;
    for (const f of frames) {
      if (this.#state !== 'open') return;
      switch (f.t) {
        case 'msg': {
          const arrival = this.#inbox.accept(f.s);
          if (arrival === 'gap') return this.#lost({ code: 'WF_PROTOCOL', message: `message ${f.s} arrived after ${this.#inbox.received}` });
          if (arrival === 'new') this.#deliver(f.ev, f.d);
          this.#scheduleAck();
          break;
        }
        case 'ack':
          if (!this.#outbox.ack(f.a, now)) return this.#lost({ code: 'WF_PROTOCOL', message: `ack ${f.a} for messages never sent` });
          this.#lastAnswered = now;
          this.#checkWater();
          break;
        case 'ping':
          this.#control.push(f.n === undefined ? '{"t":"pong"}' : `{"t":"pong","n":${f.n}}`);
          this.#scheduleFlush();
          break;
        case 'pong':
          if (this.#ping && f.n === this.#ping.n) {
            this.#rtt = now - this.#ping.at;
            this.#ping = undefined;
          }
          this.#lastAnswered = now;
          break;
        case 'error':
          this.#events.emit('error', new WirefallError(f.code === 'unauthorized' ? 'WF_UNAUTHORIZED' : 'WF_SERVER_ERROR', f.message, { rung: this.#rung ?? undefined, status: f.status }));
          break;
        case 'bye':
          return this.#lost({ code: 'WF_DISCONNECTED', message: `server ended the connection (${f.code}${f.reason ? ` ${f.reason}` : ''})`, closeCode: f.code });
        default:
          return this.#lost({ code: 'WF_PROTOCOL', message: `unexpected ${f.t} frame on an open connection` });
      }
    }
    this.#armLiveness();
  }

  #deliver(type: string, data: unknown): void {
    const set = this.#handlers.get(type);
    if (!set) return;
    for (const h of [...set]) {
      try {
        (h as (d: unknown) => void)(data);
      } catch (cause) {
        // A throwing subscriber must not break delivery to the others, nor the connection.
        this.#events.emit('error', new WirefallError('WF_INVALID', `a "${type}" subscriber threw`, { cause }));
      }
    }
  }

  /** The live transport failed or stalled: abandon it at once and resume elsewhere. */
  #lost(f: TransportFailure): void {
    if (this.#state !== 'open') return;
    const closeCode = f.closeCode;
    if (closeCode === CloseCode.Replaced && this.#probeRace) {
      // Our own upgrade probe resumed the session elsewhere; its welcome is on the way.
      this.#dropTransport(CloseCode.Replaced, 'replaced');
      return;
    }
    this.#cancelProbe();
    if (f.code === 'WF_STALLED' || f.code === 'WF_UPLINK_STALLED') this.#noteStall(this.#index(this.#rung!));
    this.#dropTransport(CloseCode.HeartbeatTimeout, f.code);
    this.#stopLiveTimers();
    const err = new WirefallError(f.code, f.message, { rung: this.#rung ?? undefined, status: f.status, closeCode });
    this.#events.emit('error', err);
    if (closeCode === CloseCode.Unauthorized || closeCode === CloseCode.Forbidden) {
      this.#outbox.rejectAll(err);
      this.#unwake();
      this.#setState('closed', null);
      return;
    }
    this.#setState('reconnecting', null);
    this.#scheduleRetry();
  }

  /**
   * A rung that opens and then stalls 3 times within a minute is demoted: the next races start
   * below it (and the memory says so), and the upgrade probe tries it again later.
   */
  #noteStall(index: number): void {
    const now = this.#clock.now();
    this.#stalls = this.#stalls.filter((t) => now - t < 60_000);
    this.#stalls.push(now);
    if (this.#stalls.length < 3 || index + 1 >= this.#setup.rungs.length) return;
    this.#stalls = [];
    this.#floor = index + 1;
    this.#memory?.remember(this.#setup.rungs[index + 1]!.name, now);
  }

  #dropTransport(code: number, reason: string): void {
    const t = this.#transport;
    this.#transport = undefined;
    t?.close(code, reason);
  }

  #scheduleFlush(): void {
    if (this.#flushQueued || this.#state !== 'open') return;
    this.#flushQueued = true;
    // Everything sent in one tick of the event loop leaves as one batch.
    queueMicrotask(() => this.#flush());
  }

  #scheduleAck(): void {
    // Acks ride along with the next batch; alone they wait a little, so a burst costs one ack.
    if (this.#ackTimer === undefined) this.#ackTimer = this.#clock.setTimeout(() => this.#flush(), 20);
  }

  #flush(): void {
    this.#flushQueued = false;
    if (this.#state !== 'open' || !this.#transport) return;
    this.#clock.clearTimeout(this.#ackTimer);
    this.#ackTimer = undefined;
    const now = this.#clock.now();
    const parts = this.#control;
    this.#control = [];
    const ack = this.#inbox.takeAck();
    if (ack !== undefined) parts.push(`{"t":"ack","a":${ack}}`);
    const hadInFlight = this.#outbox.oldestInFlight() !== undefined;
    // The server takes batches up to `max` bytes; one message alone is always under that.
    parts.push(...this.#outbox.takeUnsent(this.#max / 2, now));
    if (parts.length === 0) return;
    this.#transport.send(parts.length === 1 ? parts[0]! : `[${parts.join(',')}]`);
    if (this.#outbox.hasUnsent) this.#scheduleFlush();
    if (!hadInFlight) this.#armLiveness();
  }

  #armPing(): void {
    this.#clock.clearTimeout(this.#pingTimer);
    this.#pingTimer = this.#clock.setTimeout(() => {
      this.#sendPing();
      this.#armPing();
    }, this.#hb);
  }

  #sendPing(): void {
    if (this.#state !== 'open') return;
    if (!this.#ping) {
      this.#ping = { n: ++this.#pingSeq, at: this.#clock.now() };
      this.#control.push(`{"t":"ping","n":${this.#ping.n}}`);
    }
    this.#scheduleFlush();
    this.#armLiveness();
  }

  #armLiveness(): void {
    if (this.#state !== 'open') return;
    const inFlight = this.#outbox.oldestInFlight();
    const pingAt = this.#ping?.at;
    const oldest = inFlight === undefined ? pingAt : pingAt === undefined ? inFlight : Math.min(inFlight, pingAt);
    const v = checkLiveness({
      now: this.#clock.now(),
      lastReceived: this.#lastReceived,
      lastAnswered: Math.max(this.#lastAnswered, this.#outbox.ackedAt),
      oldestUnanswered: oldest,
      // Two heartbeat intervals: one late heartbeat is tolerated, a second is not.
      idleDeadline: this.#hb * 2,
      answerDeadline: this.#t.answerDeadline,
    });
    if (v.stalled) return this.#stalled(v.stalled);
    this.#clock.clearTimeout(this.#livenessTimer);
    this.#livenessTimer = this.#clock.setTimeout(() => this.#armLiveness(), v.recheckIn + 1);
  }

  #stalled(code: ErrorCode): void {
    const message =
      code === 'WF_UPLINK_STALLED'
        ? 'the server stopped acknowledging while still sending: the uplink is swallowed'
        : 'nothing arrived from the server within the deadline';
    this.#lost({ code, message });
  }

  #wake(reason: 'online' | 'visible'): void {
    if (reason === 'online') {
      // A new network: what we learned about the old one no longer holds.
      this.#memory?.forget();
      this.#floor = 0;
      this.#probeFailures = 0;
      if (this.#state === 'open' && !this.#probeRace) this.#probe();
    }
    if (this.#state === 'open') this.#sendPing(); // verify now, rather than at the next heartbeat
    else if (this.#retryTimer !== undefined && reason === 'online') {
      this.#clock.clearTimeout(this.#retryTimer);
      this.#failures = 0;
      this.#connect();
    }
  }

  #checkWater(): void {
    const bytes = this.#outbox.bytes;
    const high = this.#t.highWaterBytes;
    if (!this.#highWater && bytes >= high) {
      this.#highWater = true;
      this.#events.emit('backpressure', true, bytes);
    } else if (this.#highWater && bytes < high / 2) {
      this.#highWater = false;
      this.#events.emit('backpressure', false, bytes);
      this.#releaseDrainWaiters();
    }
  }

  #releaseDrainWaiters(): void {
    const w = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const r of w) r();
  }

  #stopLiveTimers(): void {
    for (const t of [this.#livenessTimer, this.#pingTimer, this.#ackTimer]) this.#clock.clearTimeout(t);
    this.#livenessTimer = this.#pingTimer = this.#ackTimer = undefined;
    this.#control = [];
    this.#ping = undefined;
  }

  #stopTimers(): void {
    this.#stopLiveTimers();
    this.#cancelProbe();
    this.#clock.clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
  }

  #setState(state: ConnectionState, rung: RungName | null): void {
    if (state === this.#state && rung === this.#rung) return;
    this.#state = state;
    this.#rung = rung;
    this.#events.emit('state', state, rung);
  }
}
