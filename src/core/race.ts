// Close codes as checked literals: importing the CloseCode table would put all of it in the client bundle (-155 B gzip).
import type { CloseCode } from '../protocol/close-codes';
import type { Clock } from '../platform';
import type { Attempt, AttemptRecord, LiveSink } from './attempt';
import { DEV } from '../dev';
import { decodeBinary } from '../protocol/binary';
import { decode } from '../protocol/codec';
import type { Frame } from '../protocol/frames';
import type { ClientSetup } from './client-types';
import type { ResolvedTimings } from './options';
import type { TransportFailure } from '../transports/transport';
import { WirefallError, type ErrorCode } from '../protocol/errors';
import type { Rung } from './rungs';

export interface RaceResult {
  /** The verified attempt (its `welcome` and `rest` with it). */
  win?: Attempt;
  /** Why no rung verified: the server's own refusal, or the most telling rung failure. */
  error?: WirefallError;
  /** Set when the server itself refused: falling down the ladder would not help. */
  fatal?: boolean;
  /** Every attempt the race started, in start order. */
  records: AttemptRecord[];
}

/** A race under way; calling it ends the race without a winner (the client closed). */
export type Race = () => void;

/**
 * Slack on top of the evidence before a silent rung counts as broken (ms): the other end's and the
 * network's jitter, small against any real network's round trip. Our own event loop's delays are
 * not in it: a verdict waits one more turn of the loop first (`decide`).
 */
const SLACK = 2;

// An attempt's stages, in order: connecting, opened, greeted, verified, done.
const VERIFIED = 3;
const DONE = 4;

/** What an attempt that ended at each stage says about the path (the words only in the default build). */
const STALLED: ErrorCode[] = ['WF_OPEN_TIMEOUT', 'WF_NO_DATA', 'WF_NO_WELCOME'];
const stalledText = (stage: number) => (DEV ? ['no answer', 'opened, no data', 'hello unanswered'][stage]! : '');

/**
 * Staggered racing down the ladder, as Happy Eyeballs (RFC 8305) does for addresses: rung i+1
 * starts when rung i fails, or when it has not verified within `stagger` ms; every started
 * attempt keeps going and the first verified round trip wins. On a clean network the first
 * rung verifies long before the stagger runs out, so no extra connection is made.
 *
 * Each attempt (one try of one rung) goes up to the verified open: the server's welcome, in
 * answer to our hello, over this very connection. An `open` event proves nothing (antivirus
 * suites complete the upgrade and then drop every frame), so its stages tell a broken path from a
 * slow server. Attempts live inside the race, which reads their stages as they happen; a probe is
 * a race of one rung (./probe.ts).
 *
 * Two shortcuts use the evidence the attempts give (docs/transports.md, "Staggered racing"):
 * - `early`: on a cold start (nothing remembered) the first HTTP rung starts at once beside the
 *   WebSocket ones. If it verifies first, it is held while a better rung can still be on time
 *   (`due`): a clean network still ends on WebSocket, a broken one falls back in about one HTTP
 *   round trip.
 * - an adaptive stagger: a rung whose transport opened after t ms and that heard nothing within
 *   about t more ms (frames dropped after the upgrade) lets the next rung start at once.
 *
 * A race of `rungs` with the client's transports and timings, every attempt saying `hello`.
 */
export function race(setup: ClientSetup, t: ResolvedTimings, hello: string | Promise<string>, rungs: Rung[], done: (r: RaceResult) => void, early = false): Race {
  const { platform } = setup;
  const clock: Clock = platform.clock;
  /** Every attempt started, in start order; those without a record are still under way. */
  const all: Attempt[] = [];
  /**
   * Why the race failed if it does, of its attempts' errors: a status beats a guess, so the first
   * that a proxy asked credentials in, else the first that saw an HTTP status, else the last.
   */
  let why: WirefallError | undefined;
  let text = typeof hello === 'string' ? hello : '';
  let next = 0;
  let over = false;
  let timer: unknown;
  /** The verified HTTP attempt held while a better rung can still be on time. */
  let held: Attempt | undefined;
  /** The HTTP attempt a cold start began at once. */
  let first: Attempt | undefined;
  /** The attempt the stagger timer is waiting on. */
  let lead: Attempt | undefined;

  /** The attempts still under way. */
  const live = () => all.filter((a) => !a.verdict);
  /** Ends the race: every attempt but the winner is abandoned (a no-op for those already done). */
  const cancel = (w?: Attempt) => {
    over = true;
    clock.clearTimeout(timer);
    for (const a of all) if (a !== w) a.abandon();
  };
  // Every attempt has its record once the race ends: verified, failed, or abandoned by it.
  const finish = (r: Omit<RaceResult, 'records'>) => {
    cancel(r.win);
    done({ ...r, records: all.map((a) => a.verdict!) });
  };
  /** The race's one timer: `fn` at clock reading `due`. */
  const at = (due: number, fn: () => void) => {
    clock.clearTimeout(timer);
    timer = clock.setTimeout(fn, Math.max(0, due - clock.now()));
  };
  /** `a` leads: the next rung starts at `due` (the stagger after its start) unless something happens first. */
  const stagger = (a: Attempt, due = a.began + t.stagger) => {
    lead = a;
    if (next < rungs.length) at(due, startNext);
  };
  function startNext(): void {
    clock.clearTimeout(timer);
    if (first && rungs[next] === first.rung) {
      next++;
      // The early rung is already under way: it is the next rung, and the stagger runs from its start.
      if (!first.verdict && !held) return stagger(first);
    }
    const rung = rungs[next];
    // While an early HTTP rung is held, only rungs above it may still start.
    if (!rung || (held && held.rank < next)) return;
    next++;
    const a = start(rung);
    // An attempt that ended while starting (a throwing factory) has already moved the race on.
    if (!over && !a.verdict) stagger(a);
  }
  /**
   * When `a` should have got further if its path works, judging by what the race has seen: open
   * within the time the held HTTP rung took for its whole round trip (connect and ask, as the
   * upgrade does, and the server's work on a hello besides: a clean loopback upgrade took 0.65-0.97×
   * of it, median; docs/transports.md); greeted within as long again as the opening took,
   * or the HTTP rung's round trip if that was shorter (the server greets in the same turn as its
   * `101`: the same millisecond in 23 of 24 clean loopback trials, but a loaded machine, or a
   * browser dispatching `open` and the first message in separate tasks, spreads them apart, and a
   * WebSocket judged broken on that would be left, and remembered, wrongly; both times measure
   * how loaded the machine is, and a 101 slowed by load doubled its wait before); welcomed within
   * another such round trip (the hello's, and the server's work) and 3 ms more (this stage is
   * never the broken cases' wait, and a busy server's welcome missed a 2 ms slack on loopback).
   * Each with SLACK.
   */
  const due = (a: Attempt, took: number) =>
    SLACK + (a.openedAt === undefined ? a.began + took : a.greeted === undefined ? a.openedAt + Math.min(a.openedAt - a.began, took) : a.greeted + took + 3);
  /**
   * While holding a verified rung: win with it once no better attempt can still be on time. A due
   * time that has passed gets one more turn of the event loop before the verdict: what the better
   * attempt was waiting for may have arrived and be queued behind our timer (a busy loop runs its
   * timers first), and it moves the race on first.
   */
  function decide(): void {
    if (over) return;
    let when = 0;
    for (const a of live()) if (a.rank < held!.rank) when = Math.max(when, due(a, held!.verdict!.duration));
    if (when > clock.now()) return at(when, () => at(0, decide));
    finish({ win: held });
  }
  /** `a` failed (`fromServer`: the server itself refused, so no other rung would do better). */
  function failed(a: Attempt, err: WirefallError, fromServer?: boolean): void {
    if (over) return;
    if (!why || (why.code !== 'WF_PROXY_AUTH' && (err.code === 'WF_PROXY_AUTH' || !why.status))) why = err;
    // Its decision is due no more: the timer read the attempt once gone (a TypeError, uncaught).
    if (held === a) held = void clock.clearTimeout(timer);
    // The server answered and said no: every rung would hear the same.
    if (fromServer) return finish({ error: err, fatal: true });
    if (next < rungs.length) startNext();
    if (held) return decide();
    if (!over && !live().length) finish({ error: why });
  }
  /** `a` verified: its welcome came. */
  function verified(a: Attempt): void {
    if (over) return;
    // A rung below the held one (started by the stagger before the hold) is no better than it.
    if (held && a.rank > held.rank) return a.abandon();
    // Only the early rung is held: otherwise the first verified round trip wins, as it always did.
    if (a !== first || !live().some((x) => x.rank < a.rank)) return finish({ win: a });
    held = a;
    decide();
  }
  /** `a` got further: its transport opened, or it was greeted. */
  function progressed(a: Attempt): void {
    if (over) return;
    if (held) decide();
    else if (a === lead) {
      // The adaptive stagger: the greeting comes with the server's first bytes after the `101`;
      // silence for as long again as the opening took is evidence that frames are being dropped.
      const opened = a.openedAt!;
      stagger(a, a.greeted === undefined ? Math.min(a.began + t.stagger, opened + Math.max(opened - a.began, SLACK) + SLACK) : undefined);
    }
  }

  /** One try of one rung, up to the verified open (or its failure, or its abandonment). */
  function start(rung: Rung): Attempt {
    let stage = 0;
    let deadline: unknown;
    let sink: LiveSink | undefined;
    /**
     * Another rung won, or the client closed: end this attempt, saying how far it got. A verified
     * attempt the race held back for a better rung that then verified too is closed as well (its
     * record keeps how long it took to verify).
     */
    const abandon = (): void => {
      if (stage === DONE || sink) return;
      if (stage === VERIFIED) {
        stage = DONE;
        a.verdict!.outcome = 'abandoned';
        a.verdict!.message = DEV ? 'a better rung won' : '';
      } else end('abandoned', STALLED[stage], stalledText(stage));
      a.transport?.close(4010 satisfies typeof CloseCode.Abandoned);
    };
    // Its transport once the factory returns; its welcome and `rest` once verified.
    const a = { rung, rank: rungs.indexOf(rung), began: clock.now(), handOver: (s: LiveSink) => void (sink = s), abandon } as Attempt;
    all.push(a);
    const end = (outcome: AttemptRecord['outcome'], reason?: ErrorCode, message?: string, status?: number) => {
      stage = outcome === 'verified' ? VERIFIED : DONE;
      clock.clearTimeout(deadline);
      a.verdict = { rung: rung.name, url: rung.url, startedAt: a.began, duration: clock.now() - a.began, outcome, reason, status, message };
    };
    const arm = (ms: number) => {
      clock.clearTimeout(deadline);
      deadline = clock.setTimeout(() => fail({ code: STALLED[stage]!, message: stalledText(stage) }), ms);
    };
    const fail = (f: TransportFailure) => {
      // A verified attempt gets here only while the race holds it (a live one reports to its sink).
      if (stage === DONE) return;
      end('failed', f.code, f.message, f.status);
      // A failure we decided (timeout, protocol error, refusal) leaves the transport open otherwise.
      a.transport?.close(4000 satisfies typeof CloseCode.ProtocolError);
      failed(a, new WirefallError(f.code, f.message, { rung: rung.name, url: rung.url, status: f.status, closeCode: f.closeCode, cause: f.cause }), f.fromServer);
    };
    const message = (data: string | Uint8Array) => {
      if (stage === DONE) return;
      let frames: Frame[];
      try {
        frames = typeof data === 'string' ? decode(data) : decodeBinary(data);
      } catch (e) {
        const f = { code: 'WF_PROTOCOL' as const, message: (e as Error).message, cause: e };
        return sink ? sink.close(f) : fail(f);
      }
      if (sink) return sink.frames(frames);
      // Verified, and held by the race while a better rung may still verify: what follows the
      // welcome joins the frames handed over with it, in order. Not push(...frames): a batch of
      // 200,000 frames is more arguments than a call takes (a RangeError failed the attempt); an
      // array literal has no such bound.
      if (stage === VERIFIED) return void (a.rest = [...a.rest, ...frames]);
      for (let i = 0; i < frames.length; i++) {
        const f = frames[i]!;
        if (f.t === 'welcome') {
          end('verified');
          a.welcome = f;
          a.rest = frames.slice(i + 1);
          return verified(a);
        }
        if (f.t === 'error') {
          // Only a refusal stops the ladder; a server error is worth another try.
          const code = f.code === 'unauthorized' ? 'WF_UNAUTHORIZED' : f.code === 'unsupported_version' ? 'WF_VERSION' : 'WF_SERVER_ERROR';
          return fail({ code, message: f.message, status: f.status, fromServer: code !== 'WF_SERVER_ERROR' });
        }
        // The greeting (or anything else before the welcome) proves the downlink: wait longer.
        if (stage < 2) {
          stage = 2;
          a.greeted = clock.now();
          a.openedAt ??= a.greeted;
          arm(t.welcomeTimeout);
          progressed(a);
        }
      }
    };
    arm(t.openTimeout);
    // Events a factory fires before it returns wait until `transport` is set, so that every
    // outcome (closing it included) sees the transport; custom factories are public API.
    let queued: (() => void)[] | undefined = [];
    // Per event: no closure once the factory has returned.
    const later = <T>(fn: (x: T) => unknown) => (x: T) => (queued ? queued.push(() => fn(x)) : fn(x));
    try {
      a.transport = setup.factories[rung.name]!({
        rung,
        hello: text,
        platform,
        events: {
          open: later<void>(() => {
            if (stage) return;
            stage = 1;
            a.openedAt = clock.now();
            progressed(a);
          }),
          message: later(message),
          close: later((failure: TransportFailure) => (sink ? sink.close(failure) : fail(failure))),
        },
      });
    } catch (cause) {
      // A throwing factory fails this attempt only: the race goes on to the next rung.
      queued = undefined;
      fail({ code: 'WF_TRANSPORT', message: DEV ? 'transport threw' : '', cause });
      return a;
    }
    // In order, with any that these fire in turn.
    for (const fn of queued) fn();
    queued = undefined;
    return a;
  }

  const begin = () => {
    const http = rungs.findIndex((r) => r.name === 'sse' || r.name === 'longpoll');
    startNext();
    if (early && http >= next && !over) first = start(rungs[http]!);
  };
  if (typeof hello === 'string') begin();
  else {
    // Credentials still being fetched get the welcome's patience (a slow authenticate is as slow);
    // the race starts once they are there, and fails with their error if they never come. The
    // deadline is the race's own timer, so that a close() meanwhile stops it too.
    const failedAuth = (error: WirefallError) => void (over || finish({ error }));
    timer = clock.setTimeout(() => failedAuth(new WirefallError('WF_AUTH', DEV ? `the auth callback did not answer within ${t.welcomeTimeout} ms` : '')), t.welcomeTimeout);
    hello.then((h) => void ((text = h), over || begin()), failedAuth);
  }
  return cancel;
}
