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
  onProgress: (a: Attempt) => void,
) => Attempt;

const isHttp = (r: Rung) => r.name === 'sse' || r.name === 'longpoll';

/**
 * Slack on top of the evidence before a silent rung counts as broken (ms): one loopback
 * scheduling hiccup, small against any real network's round trip.
 */
const SLACK = 5;

/**
 * Staggered racing down the ladder, as Happy Eyeballs (RFC 8305) does for addresses: rung i+1
 * starts when rung i fails, or when it has not verified within `stagger` ms; every started
 * attempt keeps going and the first verified round trip wins. On a clean network the first
 * rung verifies long before the stagger runs out, so no extra connection is made.
 *
 * Two shortcuts use the evidence the attempts give (docs/transports.md, "Staggered racing"):
 * - `early`: on a cold start (nothing remembered) the first HTTP rung starts at once beside the
 *   WebSocket ones. If it verifies first, it is held while a better rung can still be on time
 *   (`#due`): a clean network still ends on WebSocket, a broken one falls back in about one HTTP
 *   round trip.
 * - an adaptive stagger: a rung whose transport opened after t ms and that heard nothing within
 *   about t more ms (frames dropped after the upgrade) lets the next rung start at once.
 */
export class Race {
  #rungs: Rung[];
  #next = 0;
  #live = new Set<Attempt>();
  #held: RaceWin | undefined;
  /** The HTTP attempt a cold start began at once. */
  #early: Attempt | undefined;
  /** The attempt the stagger timer is waiting on. */
  #lead: Attempt | undefined;
  #records: AttemptRecord[] = [];
  #errors: WirefallError[] = [];
  #timer: unknown;
  #over = false;
  #clock: Clock;
  #stagger: number;
  #start: StartAttempt;
  #done: (r: RaceResult) => void;

  /** A race of `rungs` with the client's transports and timings, every attempt saying `hello`. */
  constructor(setup: ClientSetup, t: ResolvedTimings, hello: string | Promise<string>, rungs: Rung[], done: (r: RaceResult) => void, early = false) {
    const timeouts = { open: t.openTimeout, welcome: t.welcomeTimeout };
    let text = typeof hello === 'string' ? hello : '';
    this.#rungs = rungs;
    this.#stagger = t.stagger;
    this.#clock = setup.platform.clock;
    this.#start = (rung, onVerified, onFailed, onProgress) =>
      new Attempt(rung, setup.factories[rung.name]!, text, setup.platform, timeouts, onVerified, onFailed, onProgress);
    this.#done = done;
    const begin = () => {
      const http = rungs.findIndex(isHttp);
      this.#startNext();
      if (early && http >= this.#next && !this.#over) this.#early = this.#startRung(rungs[http]!);
    };
    if (typeof hello === 'string') {
      begin();
      return;
    }
    // Credentials still being fetched get the welcome's patience (a slow authenticate is as slow);
    // the race starts once they are there, and fails with their error if they never come.
    authDeadline(hello, this.#clock, t.welcomeTimeout).then(
      (h) => void ((text = h), this.#over || begin()),
      (error: WirefallError) => void (this.#over || ((this.#over = true), done({ error, records: [] }))),
    );
  }

  /** Ends the race without a winner (the client closed). */
  cancel(): void {
    if (this.#over) return;
    this.#over = true;
    this.#clock.clearTimeout(this.#timer);
    this.#held?.attempt.abandon();
    for (const a of this.#live) a.abandon();
    this.#live.clear();
  }

  #startNext(): void {
    this.#clock.clearTimeout(this.#timer);
    const early = this.#early;
    if (early && this.#rungs[this.#next] === early.rung) {
      this.#next++;
      // The early rung is already under way: it is the next rung, and the stagger runs from its start.
      if (this.#live.has(early) && !this.#held) return this.#stagger0(early, early.startedAt + this.#stagger);
    }
    const rung = this.#rungs[this.#next];
    // While an early HTTP rung is held, only rungs above it may still start.
    if (!rung || (this.#held && this.#rank(this.#held.attempt) < this.#next)) return;
    this.#next++;
    const attempt = this.#startRung(rung);
    // An attempt that ended while starting (a throwing factory) has already moved the race on.
    if (this.#over || attempt.record) return;
    this.#stagger0(attempt, attempt.startedAt + this.#stagger);
  }

  /** `a` leads: the next rung starts at `due` unless something happens first. */
  #stagger0(a: Attempt, due: number): void {
    this.#lead = a;
    if (this.#next < this.#rungs.length) this.#at(due, () => this.#startNext());
  }

  /** The race's one timer: `fn` at clock reading `due`. */
  #at(due: number, fn: () => void): void {
    this.#clock.clearTimeout(this.#timer);
    this.#timer = this.#clock.setTimeout(fn, Math.max(0, due - this.#clock.now()));
  }

  #startRung(rung: Rung): Attempt {
    const a = this.#start(rung, (a, w, rest) => this.#verified(a, w, rest), (a, e, s) => this.#failed(a, e, s), (a) => this.#progress(a));
    if (!a.record) this.#live.add(a);
    return a;
  }

  #rank(a: Attempt): number {
    return this.#rungs.indexOf(a.rung);
  }

  /**
   * When `a` should have got further if its path works, judging by what the race has seen: open
   * within 1.25× the time the held HTTP rung took for its whole round trip (both connect and ask
   * once); greeted within as long again as the opening took (the server greets in the same turn
   * as its `101`: the same millisecond in 23 of 24 clean loopback trials, but a loaded machine,
   * or a browser dispatching `open` and the first message in separate tasks, spreads them apart,
   * and a WebSocket judged broken on that would be left, and remembered, wrongly); welcomed within
   * another such round trip (the hello's, and the server's work). Each with SLACK.
   */
  #due(a: Attempt): number {
    const took = this.#held!.attempt.record!.duration;
    return SLACK + (a.opened === undefined ? a.startedAt + 1.25 * took : a.greeted === undefined ? 2 * a.opened - a.startedAt : a.greeted + took);
  }

  #progress(a: Attempt): void {
    if (this.#over) return;
    if (this.#held) return this.#decide();
    if (a !== this.#lead) return;
    // The adaptive stagger: the greeting comes with the server's first bytes after the `101`;
    // silence for as long again as the opening took is evidence that frames are being dropped.
    const opened = a.opened!;
    const due = a.startedAt + this.#stagger;
    this.#stagger0(a, a.greeted !== undefined ? due : Math.min(due, opened + Math.max(opened - a.startedAt, SLACK) + SLACK));
  }

  /** While holding a verified rung: win with it once no better attempt can still be on time. */
  #decide(): void {
    const held = this.#held!;
    let due = 0;
    for (const a of this.#live) if (this.#rank(a) < this.#rank(held.attempt)) due = Math.max(due, this.#due(a));
    if (due <= this.#clock.now()) return this.#win(held);
    this.#at(due, () => this.#decide());
  }

  #verified(a: Attempt, welcome: WelcomeFrame, rest: Frame[]): void {
    if (this.#over) return;
    this.#live.delete(a);
    const win = { attempt: a, welcome, rest };
    // Only the early rung is held: otherwise the first verified round trip wins, as it always did.
    const better = a === this.#early && [...this.#live].some((x) => this.#rank(x) < this.#rank(a));
    if (!better) return this.#win(win);
    this.#held = win;
    this.#decide();
  }

  #win(win: RaceWin): void {
    this.#over = true;
    this.#clock.clearTimeout(this.#timer);
    if (this.#held && this.#held !== win) {
      this.#held.attempt.abandon();
      this.#records.push(this.#held.attempt.record!);
    }
    for (const a of this.#live) {
      a.abandon();
      if (a.record) this.#records.push(a.record);
    }
    this.#live.clear();
    if (win.attempt.record) this.#records.push(win.attempt.record);
    this.#done({ win, records: this.#sorted() });
  }

  #failed(a: Attempt, err: WirefallError, fromServer: boolean): void {
    if (this.#over) return;
    this.#live.delete(a);
    if (a.record) this.#records.push(a.record);
    this.#errors.push(err);
    if (this.#held?.attempt === a) this.#held = undefined;
    if (fromServer) {
      // The server answered and said no: every rung would hear the same.
      this.cancel();
      this.#done({ error: err, fatal: true, records: this.#sorted() });
      return;
    }
    if (this.#next < this.#rungs.length) this.#startNext();
    if (this.#held) return this.#decide();
    if (this.#live.size === 0 && !this.#over) {
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
    return this.#errors.find((e) => e.code === 'WF_PROXY_AUTH') ?? this.#errors.find((e) => e.status) ?? this.#errors.at(-1);
  }
}
