import { DEV } from '../dev';
import { CloseCode } from '../protocol/close-codes';
import { decodeBinary } from '../protocol/binary';
import { decode } from '../protocol/codec';
import type { Frame, WelcomeFrame } from '../protocol/frames';
import type { Platform } from '../platform';
import type { Transport, TransportEvents, TransportFactory, TransportFailure } from '../transports/transport';
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

export interface AttemptTimeouts {
  /** No greeting within this many ms: the attempt fails. */
  open: number;
  /** After the greeting, the welcome may take this long (a slow `authenticate`). */
  welcome: number;
}

/** Where a verified transport's events go once the live connection owns it. */
export interface LiveSink {
  frames(frames: Frame[]): void;
  close(failure: TransportFailure): void;
}

type Stage = 'connecting' | 'opened' | 'greeted' | 'verified' | 'done';

/** What an attempt that ended at each stage says about the path (the words only in the default build). */
const STALLED: Record<string, [ErrorCode, string]> = {
  connecting: ['WF_OPEN_TIMEOUT', DEV ? 'no answer' : ''],
  opened: ['WF_NO_DATA', DEV ? 'opened, no data' : ''],
  greeted: ['WF_NO_WELCOME', DEV ? 'hello unanswered' : ''],
};

/**
 * One try of one rung, up to the verified open: the server's welcome, in answer to our hello,
 * over this very connection. An `open` event proves nothing (antivirus suites complete the
 * upgrade and then drop every frame), so the stages tell a broken path from a slow server.
 */
export class Attempt {
  readonly rung: Rung;
  readonly startedAt: number;
  #stage: Stage = 'connecting';
  #transport: Transport | undefined;
  #timer: unknown;
  #platform: Platform;
  #timeouts: AttemptTimeouts;
  #sink: LiveSink | undefined;
  #onVerified: (a: Attempt, welcome: WelcomeFrame, rest: Frame[]) => void;
  #onFailed: (a: Attempt, err: WirefallError, fromServer: boolean) => void;
  #onProgress: ((a: Attempt) => void) | undefined;
  #rest: Frame[] = [];
  record: AttemptRecord | undefined;
  /** Clock readings when the transport opened and when the first frame arrived: evidence for the race. */
  opened: number | undefined;
  greeted: number | undefined;

  constructor(
    rung: Rung,
    factory: TransportFactory,
    hello: string,
    platform: Platform,
    timeouts: AttemptTimeouts,
    onVerified: (a: Attempt, welcome: WelcomeFrame, rest: Frame[]) => void,
    onFailed: (a: Attempt, err: WirefallError, fromServer: boolean) => void,
    onProgress?: (a: Attempt) => void,
  ) {
    this.rung = rung;
    this.#onProgress = onProgress;
    this.#platform = platform;
    this.#timeouts = timeouts;
    this.#onVerified = onVerified;
    this.#onFailed = onFailed;
    this.startedAt = platform.clock.now();
    this.#arm(timeouts.open);
    // Events a factory fires before it returns wait until `#transport` is set, so that every
    // outcome (closing it included) sees the transport; custom factories are public API.
    let early: (() => void)[] | undefined = [];
    const later = (fn: () => void) => (early ? early.push(fn) : fn());
    const events: TransportEvents = {
      open: () => later(() => {
        if (this.#stage !== 'connecting') return;
        this.#stage = 'opened';
        this.opened = platform.clock.now();
        this.#onProgress?.(this);
      }),
      // Per message: no closure once the factory has returned.
      message: (text) => (early ? early.push(() => this.#message(text)) : this.#message(text)),
      close: (failure) => later(() => (this.#sink ? this.#sink.close(failure) : this.#fail(failure))),
    };
    try {
      this.#transport = factory({ rung, hello, platform, events });
    } catch (cause) {
      // A throwing factory fails this attempt only: the race goes on to the next rung.
      early = undefined;
      this.#fail({ code: 'WF_TRANSPORT', message: DEV ? 'transport threw' : '', cause });
      return;
    }
    for (const fn of early.splice(0)) fn();
    early = undefined;
  }

  /** The transport; a verified attempt always has one. */
  get transport(): Transport {
    return this.#transport!;
  }

  /** The live connection takes over the verified transport's events. */
  handOver(sink: LiveSink): void {
    this.#sink = sink;
  }

  /**
   * Another rung won, or the client closed: end this attempt, saying how far it got. A verified
   * attempt the race held back for a better rung that then verified too is closed as well.
   */
  abandon(): void {
    if (this.#stage === 'done' || this.#sink) return;
    if (this.#stage === 'verified') {
      this.#stage = 'done';
      this.record = { ...this.record!, outcome: 'abandoned', message: DEV ? 'a better rung won' : '' };
    } else {
      const [code, message] = STALLED[this.#stage]!;
      this.#finish('abandoned', code, message);
    }
    this.#transport?.close(CloseCode.Abandoned);
  }

  #message(data: string | Uint8Array): void {
    if (this.#stage === 'done') return;
    let frames: Frame[];
    try {
      frames = typeof data === 'string' ? decode(data) : decodeBinary(data);
    } catch (e) {
      const f = { code: 'WF_PROTOCOL' as const, message: (e as Error).message, cause: e };
      return this.#sink ? this.#sink.close(f) : this.#fail(f);
    }
    if (this.#sink) return this.#sink.frames(frames);
    // Verified, and held by the race while a better rung may still verify: what follows the
    // welcome joins the frames handed over with it (the same array), in order.
    if (this.#stage === 'verified') return void this.#rest.push(...frames);
    for (let i = 0; i < frames.length; i++) {
      const f = frames[i]!;
      if (f.t === 'welcome') {
        this.#stage = 'verified';
        this.#platform.clock.clearTimeout(this.#timer);
        this.record = this.#record('verified');
        this.#rest = frames.slice(i + 1);
        return this.#onVerified(this, f, this.#rest);
      }
      if (f.t === 'error') {
        // Only a refusal stops the ladder; a server error is worth another try.
        const code = f.code === 'unauthorized' ? 'WF_UNAUTHORIZED' : f.code === 'unsupported_version' ? 'WF_VERSION' : 'WF_SERVER_ERROR';
        return this.#fail({ code, message: f.message, status: f.status, fromServer: code !== 'WF_SERVER_ERROR' });
      }
      // The greeting (or anything else before the welcome) proves the downlink: wait longer.
      if (this.#stage !== 'greeted') {
        this.#stage = 'greeted';
        this.greeted = this.#platform.clock.now();
        this.opened ??= this.greeted;
        this.#arm(this.#timeouts.welcome);
        this.#onProgress?.(this);
      }
    }
  }

  #arm(ms: number): void {
    const clock = this.#platform.clock;
    clock.clearTimeout(this.#timer);
    this.#timer = clock.setTimeout(() => {
      const [code, message] = STALLED[this.#stage]!;
      this.#fail({ code, message });
    }, ms);
  }

  #fail(f: TransportFailure): void {
    // A verified attempt gets here only while the race holds it (a live one reports to its sink).
    if (this.#stage === 'done') return;
    this.#finish('failed', f.code, f.message, f.status);
    // A failure we decided (timeout, protocol error, refusal) leaves the transport open otherwise.
    this.#transport?.close(CloseCode.ProtocolError);
    const { name: rung, url } = this.rung;
    this.#onFailed(this, new WirefallError(f.code, f.message, { rung, url, status: f.status, closeCode: f.closeCode, cause: f.cause }), !!f.fromServer);
  }

  #finish(outcome: AttemptRecord['outcome'], reason: ErrorCode, message: string, status?: number): void {
    this.#stage = 'done';
    this.#platform.clock.clearTimeout(this.#timer);
    this.record = this.#record(outcome, reason, message, status);
  }

  #record(outcome: AttemptRecord['outcome'], reason?: ErrorCode, message?: string, status?: number): AttemptRecord {
    const { name, url } = this.rung;
    return { rung: name, url, startedAt: this.startedAt, duration: this.#platform.clock.now() - this.startedAt, outcome, reason, status, message };
  }
}
