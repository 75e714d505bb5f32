import type { Frame, WelcomeFrame } from '../protocol/frames';
import type { Clock } from '../platform';
import { Attempt, type AttemptRecord } from './attempt';
import { authDeadline } from './auth';
import type { ClientSetup } from './client-types';
import type { ResolvedTimings } from './options';
import type { WirefallError } from '../protocol/errors';
import type { Rung } from './rungs';

export interface RaceWin {
  attempt: Attempt;
  welcome: WelcomeFrame;
  rest: Frame[];
}

export interface RaceResult {
  win?: RaceWin;
  /** Why no rung verified: the server's own refusal, or the most telling rung failure. */
  error?: WirefallError;
  /** Set when the server itself refused: falling down the ladder would not help. */
  fatal?: boolean;
  records: AttemptRecord[];
}

export type StartAttempt = (
  rung: Rung,
  onVerified: (a: Attempt, welcome: WelcomeFrame, rest: Frame[]) => void,
  onFailed: (a: Attempt, err: WirefallError, fromServer: boolean) => void,
) => Attempt;

/**
 * Staggered racing down the ladder, as Happy Eyeballs (RFC 8305) does for addresses: rung i+1
 * starts when rung i fails, or when it has not verified within `stagger` ms; every started
 * attempt keeps going and the first verified round trip wins. On a clean network the first
 * rung verifies long before the stagger runs out, so no extra connection is made.
 */
export class Race {
  #rungs: Rung[];
  #next = 0;
  #live = new Set<Attempt>();
  #records: AttemptRecord[] = [];
  #errors: WirefallError[] = [];
  #timer: unknown;
  #over = false;
  #clock: Clock;
  #stagger: number;
  #start: StartAttempt;
  #done: (r: RaceResult) => void;

  /** A race of `rungs` with the client's transports and timings, every attempt saying `hello`. */
  static of(setup: ClientSetup, t: ResolvedTimings, hello: string | Promise<string>, rungs: Rung[], done: (r: RaceResult) => void): Race {
    const timeouts = { open: t.openTimeout, welcome: t.welcomeTimeout };
    let text = typeof hello === 'string' ? hello : '';
    // Credentials still being fetched get the welcome's patience (a slow authenticate is as slow).
    const ready = typeof hello === 'string' ? undefined : authDeadline(hello, setup.platform.clock, t.welcomeTimeout).then((h) => void (text = h));
    return new Race(rungs, t.stagger, setup.platform.clock, (rung, onVerified, onFailed) =>
      new Attempt(rung, setup.factories[rung.name]!, text, setup.platform, timeouts, onVerified, onFailed), done, ready);
  }

  /** `ready`: the race starts once it resolves (async credentials); its rejection fails the race. */
  constructor(rungs: Rung[], stagger: number, clock: Clock, start: StartAttempt, done: (r: RaceResult) => void, ready?: Promise<void>) {
    this.#rungs = rungs;
    this.#stagger = stagger;
    this.#clock = clock;
    this.#start = start;
    this.#done = done;
    if (!ready) this.#startNext();
    else ready.then(
      () => this.#over || this.#startNext(),
      (error: WirefallError) => this.#over || ((this.#over = true), done({ error, records: [] })),
    );
  }

  /** Ends the race without a winner (the client closed). */
  cancel(): void {
    if (this.#over) return;
    this.#over = true;
    this.#clock.clearTimeout(this.#timer);
    for (const a of this.#live) a.abandon();
    this.#live.clear();
  }

  #startNext(): void {
    this.#clock.clearTimeout(this.#timer);
    const rung = this.#rungs[this.#next++];
    if (!rung) return;
    const attempt = this.#start(rung, (a, w, rest) => this.#verified(a, w, rest), (a, e, s) => this.#failed(a, e, s));
    // An attempt that ended while starting (a throwing factory) has already moved the race on.
    if (this.#over || attempt.record) return;
    this.#live.add(attempt);
    if (this.#next < this.#rungs.length) {
      this.#timer = this.#clock.setTimeout(() => this.#startNext(), this.#stagger);
    }
  }

  #verified(winner: Attempt, welcome: WelcomeFrame, rest: Frame[]): void {
    if (this.#over) return;
    this.#over = true;
    this.#clock.clearTimeout(this.#timer);
    this.#live.delete(winner);
    for (const a of this.#live) {
      a.abandon();
      if (a.record) this.#records.push(a.record);
    }
    this.#live.clear();
    if (winner.record) this.#records.push(winner.record);
    this.#done({ win: { attempt: winner, welcome, rest }, records: this.#sorted() });
  }

  #failed(a: Attempt, err: WirefallError, fromServer: boolean): void {
    if (this.#over) return;
    this.#live.delete(a);
    if (a.record) this.#records.push(a.record);
    this.#errors.push(err);
    if (fromServer) {
      // The server answered and said no: every rung would hear the same.
      this.cancel();
      this.#done({ error: err, fatal: true, records: this.#sorted() });
      return;
    }
    if (this.#next < this.#rungs.length) this.#startNext();
    else if (this.#live.size === 0) {
      this.#over = true;
      this.#clock.clearTimeout(this.#timer);
      this.#done({ error: this.#mostTelling(), records: this.#sorted() });
    }
  }

  #sorted(): AttemptRecord[] {
    return this.#records.sort((x, y) => x.startedAt - y.startedAt);
  }

  /** A status beats a guess: prefer an error that saw an HTTP status, then the last one. */
  #mostTelling(): WirefallError | undefined {
    return this.#errors.find((e) => e.code === 'WF_PROXY_AUTH') ?? this.#errors.find((e) => e.status) ?? this.#errors[this.#errors.length - 1];
  }
}
