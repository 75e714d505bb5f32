import type { ApiShape, AnyApi, RungName } from '../protocol/api';
import { batch, encodeFrame } from '../protocol/encode';
import { PROTOCOL_VERSION, type Frame, type WelcomeFrame } from '../protocol/frames';
import { CloseCode } from '../protocol/close-codes';
import type { Platform } from '../platform';
import type { TransportFactory, TransportFailure } from '../transports/transport';
import type { Transport } from '../transports/transport';
import { Attempt, type AttemptRecord } from './attempt';
import { backoffDelay } from './backoff';
import { Emitter } from '../util/emitter';
import { WirefallError, type ErrorCode } from '../protocol/errors';
import { Inbox } from '../protocol/inbox';
import { checkLiveness } from './liveness';
import { resolveTimings, type ClientOptions, type ResolvedTimings } from './options';
import { Outbox, rejected, utf8Length } from '../protocol/outbox';
import { Race, type RaceResult, type RaceWin } from './race';
import { RungMemory } from './memory';
import type { Rung } from './rungs';

export type { ApiShape };

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
export class Client<Api extends ApiShape = AnyApi> {
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
  /** Timers by role: r(etry), l(iveness), p(ing), a(ck), u(pgrade probe). */
  #timers: Record<string, unknown> = {};
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
  #probeFailures = 0;
  /** When the next upgrade probe is due (wall clock), or 0. */
  #probeDue = 0;
  /** The rung of the last open connection. */
  #lastRung: RungName = 'wss';

  /** @internal Use `connect()`. */
  constructor(setup: ClientSetup, options: ClientOptions) {
    this.#setup = setup;
    this.#clock = setup.platform.clock;
    this.#t = resolveTimings(options);
    this.#auth = options.auth;
    this.#outbox = new Outbox(this.#t);
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
   * (`WF_TOO_LARGE`, `WF_OUTBOX_FULL`, `WF_CLOSED`, `WF_SESSION_LOST`, `WF_INVALID`).
   */
  send<K extends keyof Api['client'] & string>(type: K, data: Api['client'][K]): Promise<void> {
    let payload: string | undefined;
    let problem: WirefallError | undefined;
    try {
      payload = JSON.stringify(data) ?? 'null';
    } catch (cause) {
      problem = new WirefallError('WF_INVALID', `"${type}": data is not JSON`, { cause });
    }
    const bytes = payload ? utf8Length(payload) : 0;
    problem ??=
      this.#state === 'closed' ? new WirefallError('WF_CLOSED', 'client closed')
      : typeof type !== 'string' || !type ? new WirefallError('WF_INVALID', 'type must be a non-empty string')
      : bytes > this.#max ? new WirefallError('WF_TOO_LARGE', `"${type}": ${bytes} bytes > ${this.#max}`)
      : undefined;
    if (problem) return rejected(problem);
    const p = this.#outbox.push(type, payload!);
    this.#checkWater();
    // A long burst leaves in slices, so the receiver works while the sender is still sending.
    if (this.#outbox.unsent >= 256) this.#flush();
    else this.#scheduleFlush();
    return p;
  }

  /** Calls `handler` for every `type` message the server pushes; returns the unsubscribe function. */
  subscribe<K extends keyof Api['server'] & string>(type: K, handler: (data: Api['server'][K]) => void): () => void {
    let set = this.#handlers.get(type);
    if (!set) this.#handlers.set(type, (set = new Set()));
    const h = handler as Handler;
    set.add(h);
    return () => void set.delete(h);
  }

  /** Listens to a client event; returns the unsubscribe function. */
  on<E extends keyof ClientEvents>(event: E, listener: ClientEvents[E]): () => void {
    return this.#events.on(event, listener);
  }

  /** Resolves when the outbox is below half its high-water mark (at once if it is). */
  whenWritable(): Promise<void> {
    return new Promise((resolve) => (this.#highWater ? this.#drainWaiters.push(resolve) : resolve()));
  }

  /** Closes the connection for good: unacknowledged sends reject with `WF_CLOSED`, every timer stops. */
  close(): void {
    this.#end(new WirefallError('WF_CLOSED', 'client closed before the server acknowledged'));
  }

  /** The end, by `close()` or by a refusal of the server's own: nothing reconnects after this. */
  #end(err: WirefallError): void {
    if (this.#state === 'closed') return;
    this.#race?.cancel();
    this.#race = undefined;
    this.#dropTransport(CloseCode.Normal);
    this.#stopTimers();
    this.#unwake();
    this.#setState('closed', null);
    this.#outbox.rejectAll(err);
    this.#releaseDrainWaiters();
  }

  // --- connecting ---------------------------------------------------------------------------

  #hello(): string {
    const s = this.#session;
    const auth = typeof this.#auth === 'function' ? (this.#auth as () => unknown)() : this.#auth;
    // One token per race: its attempts open (or resume) one session, on the server too.
    const race = this.#setup.platform.nonce();
    return encodeFrame.hello({ v: PROTOCOL_VERSION, ...(s && { sid: s.sid, key: s.key, ack: this.#inbox.received }), auth, race });
  }

  #connect(): void {
    this.#timer('r');
    const start = this.#startIndex();
    this.#race = this.#newRace(this.#setup.rungs.slice(start), (r) => {
      this.#race = undefined;
      this.#record(r.records);
      if (r.win) {
        // Fell further down: probe the rungs above on the short schedule again.
        if (this.#index(r.win.attempt.rung.name) > this.#index(this.#lastRung)) this.#probeFailures = this.#probeDue = 0;
        return this.#adopt(r.win, r.records);
      }
      if (start > 0) {
        // Even the remembered (or demoted-to) rung failed: the network changed; start from the top.
        this.#memory?.forget();
        this.#floor = 0;
      }
      const err = r.error ?? new WirefallError('WF_NETWORK', 'no rung connected');
      this.#events.emit('error', err);
      // The server itself refused (auth, version): every retry would be refused alike.
      if (r.fatal) this.#end(err);
      else this.#scheduleRetry();
    });
  }

  #newRace(rungs: Rung[], done: (r: RaceResult) => void): Race {
    const hello = this.#hello();
    const { platform, factories } = this.#setup;
    const timeouts = { open: this.#t.openTimeout, welcome: this.#t.welcomeTimeout };
    return new Race(
      rungs,
      this.#t.stagger,
      this.#clock,
      (rung, onVerified, onFailed) => new Attempt(rung, factories[rung.name]!, hello, platform, timeouts, onVerified, onFailed),
      done,
    );
  }

  /**
   * Where a race starts: below rungs that stalled repeatedly, and on the first connection (a page
   * load) at the remembered rung. Reconnects start at the top again, so that a rung that was only
   * unlucky (cut while connecting, which browsers report like a refusal) gets its chance back.
   */
  #startIndex(): number {
    const remembered = this.#session ? undefined : this.#memory?.recall(this.#clock.now());
    return Math.min(Math.max(remembered ? this.#index(remembered) : 0, this.#floor), this.#setup.rungs.length - 1);
  }

  #index(rung: RungName): number {
    return this.#setup.rungs.findIndex((r) => r.name === rung);
  }

  #record(records: AttemptRecord[]): void {
    this.#attempts = [...this.#attempts, ...records].slice(-50);
  }

  #scheduleRetry(): void {
    if (this.#t.backoff === false) return this.close();
    this.#setState(this.#session ? 'reconnecting' : 'connecting', null);
    this.#timer('r', () => this.#connect(), backoffDelay(this.#failures++, this.#t.backoff, this.#setup.platform.random));
  }

  /**
   * What a won race teaches the rung memory. A lower rung is remembered only on evidence that
   * the rungs above are broken (refused, or still stuck long after the winner verified), not when
   * they were merely slow or cut once, and not when a better rung worked earlier in this client's
   * life: a server restart refuses every rung for a moment, and must not push the fleet down.
   */
  #learn(index: number, records: AttemptRecord[]): void {
    const won = records.find((a) => a.outcome === 'verified')?.duration ?? 0;
    const above = records.filter((a) => this.#index(a.rung) < index);
    const broken =
      above.length > 0 &&
      above.every((a) =>
        a.outcome === 'failed'
          ? a.reason !== 'WF_DISCONNECTED' // a cut is bad luck, not a verdict on the rung
          : a.duration > 4 * won + 100, // still stuck long after the winner verified: it hangs
      );
    if (!index) this.#memory?.forget();
    else if (broken && this.#best >= index) this.#memory?.remember(this.#setup.rungs[index]!.name, this.#clock.now());
    this.#best = Math.min(this.#best, index);
    this.#floor = Math.min(this.#floor, index);
  }

  #adopt(win: RaceWin, records: AttemptRecord[]): void {
    const { attempt, welcome, rest } = win;
    const now = this.#clock.now();
    this.#learn(this.#index(attempt.rung.name), records);
    // A probe won: the session moves here; the server already detached the old link.
    this.#dropTransport(CloseCode.Replaced);
    this.#stopTimers();
    this.#transport = attempt.transport;
    attempt.handOver({ frames: (f) => this.#frames(f), close: (f) => this.#lost(f) });
    this.#failures = 0;
    this.#rtt = undefined; // measured anew on this connection
    this.#lastReceived = this.#lastAnswered = now;
    // Speaking first claims the session for this connection (the server parks the others).
    this.#control.push(encodeFrame.ack(this.#inbox.received));
    this.#setState('open', (this.#lastRung = attempt.rung.name));
    this.#startSession(welcome);
    if (this.#state !== 'open') return;
    this.#armPing();
    if (rest.length) this.#frames(rest);
    this.#armLiveness();
    this.#scheduleFlush();
    this.#scheduleProbe();
  }

  #startSession(w: WelcomeFrame): void {
    this.#hb = w.hb;
    this.#max = w.max;
    if (w.resumed) {
      if (!this.#outbox.ack(w.ack, this.#clock.now())) return this.#lost({ code: 'WF_PROTOCOL', message: 'welcome acks unsent messages' });
      this.#inbox.resumed();
    } else {
      this.#inbox.reset();
      if (this.#session) {
        const lost = this.#outbox.restart(new WirefallError('WF_SESSION_LOST', 'session lost before the server acknowledged'));
        this.#events.emit('error', new WirefallError('WF_SESSION_LOST', `session lost; ${lost.length} message(s) may not have arrived`));
        this.#events.emit('sessionlost', lost.map((e) => ({ type: e.ev, data: JSON.parse(e.payload) as unknown })));
      }
    }
    this.#session = w;
    this.#outbox.rewind();
  }

  // --- climbing back up ---------------------------------------------------------------------

  /**
   * On a lower rung, try the ones above now and then; the delay doubles after each failure. The
   * due time is kept across reconnects, or a link cut every few seconds would never be probed.
   */
  #scheduleProbe(): void {
    const p = this.#t.probe;
    const now = this.#clock.now();
    if (!p || this.#state !== 'open' || this.#index(this.#rung!) <= 0 || this.#probeRace) return;
    this.#probeDue ||= now + Math.min(p.max, p.first * 2 ** Math.min(this.#probeFailures, 20));
    this.#timer('u', () => this.#probe(), this.#probeDue - now);
  }

  #probe(): void {
    const above = this.#setup.rungs.slice(0, this.#index(this.#rung!));
    if (this.#state !== 'open' || this.#probeRace || !above.length) return;
    this.#probeDue = 0;
    // The probe resumes the session on the better rung: if it verifies, the move is already done.
    this.#probeRace = this.#newRace(above, (r) => {
      this.#probeRace = undefined;
      this.#record(r.records);
      if (r.win && this.#state === 'open') {
        this.#probeFailures = 0;
        return this.#adopt(r.win, r.records);
      }
      r.win?.attempt.transport.close(CloseCode.Abandoned);
      this.#probeFailures++;
      this.#scheduleProbe();
    });
  }

  // --- the live connection ------------------------------------------------------------------

  #frames(frames: Frame[]): void {
    const now = this.#clock.now();
    this.#lastReceived = now;
    for (const f of frames) {
      if (this.#state !== 'open') return;
      if (f.t === 'msg') {
        const arrival = this.#inbox.accept(f.s);
        if (arrival === 'gap') return this.#lost({ code: 'WF_PROTOCOL', message: `message ${f.s} after ${this.#inbox.received}` });
        if (arrival === 'new') this.#deliver(f.ev, f.d);
        // Acks ride along with the next batch; alone they wait a little, so a burst costs one ack.
        this.#timers.a ??= this.#clock.setTimeout(() => this.#flush(), 20);
      } else if (f.t === 'ack') {
        if (!this.#outbox.ack(f.a, now)) return this.#lost({ code: 'WF_PROTOCOL', message: `ack ${f.a} of unsent messages` });
        this.#lastAnswered = now;
        this.#checkWater();
      } else if (f.t === 'ping') {
        this.#control.push(encodeFrame.pong(f.n));
        this.#scheduleFlush();
      } else if (f.t === 'pong') {
        if (this.#ping && f.n === this.#ping.n) {
          this.#rtt = now - this.#ping.at;
          this.#ping = undefined;
        }
        this.#lastAnswered = now;
      } else if (f.t === 'error') {
        this.#events.emit('error', new WirefallError(f.code === 'unauthorized' ? 'WF_UNAUTHORIZED' : 'WF_SERVER_ERROR', f.message, { rung: this.#rung!, status: f.status }));
      } else {
        const bye = f.t === 'bye';
        return this.#lost({ code: bye ? 'WF_DISCONNECTED' : 'WF_PROTOCOL', message: bye ? `server said bye: ${f.code} ${f.reason ?? ''}` : `unexpected ${f.t}`, closeCode: bye ? f.code : undefined });
      }
    }
    // No re-arming here: what arrives only moves deadlines later, and the armed timer re-checks.
  }

  #deliver(type: string, data: unknown): void {
    for (const h of [...(this.#handlers.get(type) ?? [])]) {
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
    const { code, closeCode } = f;
    if (code === 'WF_STALLED' || code === 'WF_UPLINK_STALLED') this.#noteStall();
    this.#dropTransport(CloseCode.HeartbeatTimeout);
    this.#stopTimers();
    const err = new WirefallError(code, f.message, { rung: this.#rung!, status: f.status, closeCode });
    this.#events.emit('error', err);
    if (closeCode === CloseCode.Unauthorized || closeCode === CloseCode.Forbidden) return this.#end(err);
    this.#setState('reconnecting', null);
    this.#scheduleRetry();
  }

  /**
   * A rung that verifies and then stalls 3 times within a minute is demoted: the next races start
   * below it (and the memory says so), and the upgrade probe tries it again later.
   */
  #noteStall(): void {
    const now = this.#clock.now();
    const below = this.#index(this.#rung!) + 1;
    this.#stalls = [...this.#stalls.filter((t) => now - t < 60_000), now];
    if (this.#stalls.length < 3 || below >= this.#setup.rungs.length) return;
    this.#stalls = [];
    this.#floor = below;
    this.#memory?.remember(this.#setup.rungs[below]!.name, now);
  }

  #dropTransport(code: number): void {
    const t = this.#transport;
    this.#transport = undefined;
    t?.close(code);
  }

  #scheduleFlush(): void {
    if (this.#flushQueued || this.#state !== 'open') return;
    this.#flushQueued = true;
    // Everything sent in one tick of the event loop leaves as one batch.
    queueMicrotask(() => this.#flush());
  }

  #flush(): void {
    this.#flushQueued = false;
    this.#timer('a');
    if (this.#state !== 'open' || !this.#transport) return;
    const parts = this.#control;
    this.#control = [];
    const ack = this.#inbox.takeAck();
    if (ack !== undefined) parts.push(encodeFrame.ack(ack));
    const idle = this.#outbox.oldestInFlight() === undefined;
    // The server takes batches up to `max` bytes; one message alone is always under that.
    parts.push(...this.#outbox.takeUnsent(this.#max / 2, this.#clock.now()));
    if (!parts.length) return;
    this.#transport.send(batch(parts));
    if (this.#outbox.hasUnsent) this.#scheduleFlush();
    if (idle) this.#armLiveness();
  }

  #armPing(): void {
    this.#timer('p', () => (this.#sendPing(), this.#armPing()), this.#hb);
  }

  #sendPing(): void {
    this.#ping ??= { n: ++this.#pingSeq, at: this.#clock.now() };
    this.#control.push(encodeFrame.ping(this.#ping.n));
    this.#scheduleFlush();
    this.#armLiveness();
  }

  #armLiveness(): void {
    if (this.#state !== 'open') return;
    const inFlight = this.#outbox.oldestInFlight();
    const pingAt = this.#ping?.at;
    const v = checkLiveness({
      now: this.#clock.now(),
      lastReceived: this.#lastReceived,
      lastAnswered: Math.max(this.#lastAnswered, this.#outbox.ackedAt),
      oldestUnanswered: inFlight === undefined ? pingAt : Math.min(inFlight, pingAt ?? inFlight),
      // Two heartbeat intervals: one late heartbeat is tolerated, a second is not.
      idleDeadline: this.#hb * 2,
      answerDeadline: this.#t.answerDeadline,
    });
    if (v.stalled) {
      const uplink = v.stalled === 'WF_UPLINK_STALLED';
      return this.#lost({ code: v.stalled, message: uplink ? 'acks stopped while data kept coming: uplink swallowed' : 'nothing arrived in time' });
    }
    this.#timer('l', () => this.#armLiveness(), v.recheckIn + 1);
  }

  #wake(reason: 'online' | 'visible'): void {
    if (reason === 'online') {
      // A new network: what we learned about the old one no longer holds.
      this.#memory?.forget();
      this.#floor = this.#probeFailures = this.#failures = this.#probeDue = 0;
      if (this.#state !== 'open' && this.#timers.r !== undefined) this.#connect();
      else this.#probe();
    }
    if (this.#state === 'open') this.#sendPing(); // verify now, rather than at the next heartbeat
  }

  #checkWater(): void {
    const { bytes, size } = this.#outbox;
    // High at the byte mark or at half the message bound (small messages fill the count first).
    const load = Math.max(bytes / this.#t.highWaterBytes, (2 * size) / this.#t.maxMessages);
    const high = load >= 1 || (this.#highWater && load >= 0.5);
    if (high === this.#highWater) return;
    this.#highWater = high;
    this.#events.emit('backpressure', high, bytes);
    if (!high) this.#releaseDrainWaiters();
  }

  #releaseDrainWaiters(): void {
    for (const r of this.#drainWaiters.splice(0)) r();
  }

  /** (Re)sets the timer of a role; without `fn`, just clears it. */
  #timer(role: string, fn?: () => void, ms = 0): void {
    this.#clock.clearTimeout(this.#timers[role]);
    this.#timers[role] = fn && this.#clock.setTimeout(fn, ms);
  }

  #stopTimers(): void {
    for (const role in this.#timers) this.#timer(role);
    this.#probeRace?.cancel();
    this.#probeRace = undefined;
    this.#control = [];
    this.#ping = undefined;
  }

  #setState(state: ConnectionState, rung: RungName | null): void {
    if (state === this.#state && rung === this.#rung) return;
    this.#state = state;
    this.#rung = rung;
    this.#events.emit('state', state, rung);
  }
}
