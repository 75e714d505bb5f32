// Close codes as checked literals: importing the CloseCode table would put all of it in the client bundle (-155 B gzip).
import type { CloseCode } from '../protocol/close-codes';
import { DEV } from '../dev';
import { decodeBinary } from '../protocol/binary';
import { decode } from '../protocol/codec';
import type { Frame, WelcomeFrame } from '../protocol/frames';
import type { Platform } from '../platform';
import type { Transport, TransportFactory, TransportFailure } from '../transports/transport';
import { WirefallError, type ErrorCode } from '../protocol/errors';
import type { Rung, RungName } from './rungs';

/** What one connection attempt on one rung came to; `client.attempts` lists these. */
export interface AttemptRecord {
  rung: RungName;
  url: string;
  /** Wall-clock start, ms since the epoch. */
  startedAt: number;
  /** How long until the outcome, ms. */
  duration: number;
  /** `verified`: a hello/welcome round trip passed; `failed`: it could not; `abandoned`: another rung won first. */
  outcome: 'verified' | 'failed' | 'abandoned';
  /** Why it did not verify (for `abandoned`: how far it had got). */
  reason?: ErrorCode;
  status?: number;
  /** The reason in words; the production build (src/dev.ts) leaves them out: branch on `reason`. */
  message?: string;
}

/** The client's timings an attempt keeps (options `openTimeout` and `welcomeTimeout`). */
export interface AttemptTimeouts {
  /** No greeting within this many ms: the attempt fails. */
  openTimeout: number;
  /** After the greeting, the welcome may take this long (a slow `authenticate`). */
  welcomeTimeout: number;
}

/** Where a verified transport's events go once the live connection owns it. */
export interface LiveSink {
  /** True when the next long-poll should wait (transport.ts, `message`). */
  frames(frames: Frame[]): boolean | void;
  close(failure: TransportFailure): void;
}

/** One try of one rung; `startAttempt` makes it. */
export interface Attempt {
  readonly rung: Rung;
  readonly startedAt: number;
  /** Set when it verified, failed or was abandoned. */
  record?: AttemptRecord;
  /** Clock readings when the transport opened and when the first frame arrived: evidence for the race. */
  opened?: number;
  greeted?: number;
  /** Once verified: the server's welcome, and the frames that came with it and after it, in order. */
  welcome?: WelcomeFrame;
  rest: Frame[];
  /** The transport; a verified attempt always has one. */
  transport: Transport;
  /** The live connection takes over the verified transport's events. */
  handOver(sink: LiveSink): void;
  /**
   * Another rung won, or the client closed: end this attempt, saying how far it got. A verified
   * attempt the race held back for a better rung that then verified too is closed as well.
   */
  abandon(): void;
}

/**
 * What an attempt tells its owner, at each step: no `err` and no record yet, it got further
 * (opened, greeted); no `err` with a record, it verified (`a.welcome`); an `err`, it failed
 * (`fromServer`: the server itself refused, so no other rung would do better).
 */
export type AttemptReport = (a: Attempt, err?: WirefallError, fromServer?: boolean) => void;

// Stages, in order: connecting, opened, greeted, verified, done.
const VERIFIED = 3;
const DONE = 4;

/** What an attempt that ended at each stage says about the path (the words only in the default build). */
const STALLED: [ErrorCode, string][] = [
  ['WF_OPEN_TIMEOUT', DEV ? 'no answer' : ''],
  ['WF_NO_DATA', DEV ? 'opened, no data' : ''],
  ['WF_NO_WELCOME', DEV ? 'hello unanswered' : ''],
];

/**
 * One try of one rung, up to the verified open: the server's welcome, in answer to our hello,
 * over this very connection. An `open` event proves nothing (antivirus suites complete the
 * upgrade and then drop every frame), so the stages tell a broken path from a slow server.
 */
export function startAttempt(rung: Rung, factory: TransportFactory, hello: string, platform: Platform, timeouts: AttemptTimeouts, report: AttemptReport): Attempt {
  const { clock } = platform;
  let stage = 0;
  let timer: unknown;
  let sink: LiveSink | undefined;
  const a: Attempt = { rung, startedAt: clock.now(), rest: [], transport: undefined!, handOver: (s) => void (sink = s), abandon };
  const record = (outcome: AttemptRecord['outcome'], reason?: ErrorCode, message?: string, status?: number) =>
    (a.record = { rung: rung.name, url: rung.url, startedAt: a.startedAt, duration: clock.now() - a.startedAt, outcome, reason, status, message });
  const end = (outcome: AttemptRecord['outcome'], [reason, message]: [ErrorCode, string], status?: number) => {
    stage = DONE;
    clock.clearTimeout(timer);
    record(outcome, reason, message, status);
  };
  const arm = (ms: number) => {
    clock.clearTimeout(timer);
    timer = clock.setTimeout(() => fail({ code: STALLED[stage]![0], message: STALLED[stage]![1] }), ms);
  };
  const fail = (f: TransportFailure) => {
    // A verified attempt gets here only while the race holds it (a live one reports to its sink).
    if (stage === DONE) return;
    end('failed', [f.code, f.message], f.status);
    // A failure we decided (timeout, protocol error, refusal) leaves the transport open otherwise.
    a.transport?.close(4000 satisfies typeof CloseCode.ProtocolError);
    report(a, new WirefallError(f.code, f.message, { rung: rung.name, url: rung.url, status: f.status, closeCode: f.closeCode, cause: f.cause }), !!f.fromServer);
  };
  function abandon(): void {
    if (stage === DONE || sink) return;
    if (stage === VERIFIED) {
      stage = DONE;
      a.record = { ...a.record!, outcome: 'abandoned', message: DEV ? 'a better rung won' : '' };
    } else end('abandoned', STALLED[stage]!);
    a.transport?.close(4010 satisfies typeof CloseCode.Abandoned);
  }
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
    // welcome joins the frames handed over with it (the same array), in order.
    if (stage === VERIFIED) return void a.rest.push(...frames);
    for (let i = 0; i < frames.length; i++) {
      const f = frames[i]!;
      if (f.t === 'welcome') {
        stage = VERIFIED;
        clock.clearTimeout(timer);
        record('verified');
        a.welcome = f;
        a.rest = frames.slice(i + 1);
        return report(a);
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
        a.opened ??= a.greeted;
        arm(timeouts.welcomeTimeout);
        report(a);
      }
    }
  };
  arm(timeouts.openTimeout);
  // Events a factory fires before it returns wait until `transport` is set, so that every
  // outcome (closing it included) sees the transport; custom factories are public API.
  let early: (() => void)[] | undefined = [];
  const later = (fn: () => void) => (early ? early.push(fn) : fn());
  try {
    a.transport = factory({
      rung,
      hello,
      platform,
      events: {
        open: () =>
          later(() => {
            if (stage) return;
            stage = 1;
            a.opened = clock.now();
            report(a);
          }),
        // Per message: no closure once the factory has returned.
        message: (data) => (early ? early.push(() => message(data)) : message(data)),
        close: (failure) => later(() => (sink ? sink.close(failure) : fail(failure))),
      },
    });
  } catch (cause) {
    // A throwing factory fails this attempt only: the race goes on to the next rung.
    early = undefined;
    fail({ code: 'WF_TRANSPORT', message: DEV ? 'transport threw' : '', cause });
    return a;
  }
  for (const fn of early.splice(0)) fn();
  early = undefined;
  return a;
}
