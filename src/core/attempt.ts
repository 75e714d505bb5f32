import { CloseCode } from '../protocol/close-codes';
import { decode, DecodeError } from '../protocol/codec';
import type { Frame, WelcomeFrame } from '../protocol/frames';
import type { Platform } from '../platform';
import type { Transport, TransportEvents, TransportFactory, TransportFailure } from '../transports/transport';
import { WirefallError, type ErrorCode } from './errors';
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

/**
 * One try of one rung, up to the verified open: the server's welcome, in answer to our hello,
 * over this very connection. An `open` event proves nothing (antivirus suites complete the
 * upgrade and then drop every frame), so the stages tell a broken path from a slow server.
 */
export class Attempt {
  readonly rung: Rung;
  readonly startedAt: number;
  #stage: Stage = 'connecting';
  #transport: Transport;
  #timer: unknown;
  #platform: Platform;
  #timeouts: AttemptTimeouts;
  #sink: LiveSink | undefined;
  #onVerified: (a: Attempt, welcome: WelcomeFrame, rest: Frame[]) => void;
  #onFailed: (a: Attempt, err: WirefallError, fromServer: boolean) => void;
  record: AttemptRecord | undefined;

  constructor(
    rung: Rung,
    factory: TransportFactory,
    hello: string,
    platform: Platform,
    timeouts: AttemptTimeouts,
    onVerified: (a: Attempt, welcome: WelcomeFrame, rest: Frame[]) => void,
    onFailed: (a: Attempt, err: WirefallError, fromServer: boolean) => void,
  ) {
    this.rung = rung;
    this.#platform = platform;
    this.#timeouts = timeouts;
    this.#onVerified = onVerified;
    this.#onFailed = onFailed;
    this.startedAt = platform.clock.now();
    this.#arm(timeouts.open);
    const events: TransportEvents = {
      open: () => {
        if (this.#stage === 'connecting') this.#stage = 'opened';
      },
      message: (text) => this.#message(text),
      close: (failure) => (this.#sink ? this.#sink.close(failure) : this.#fail(failure)),
    };
    this.#transport = factory({ rung, hello, platform, events });
  }

  get transport(): Transport {
    return this.#transport;
  }

  /** The live connection takes over the verified transport's events. */
  handOver(sink: LiveSink): void {
    this.#sink = sink;
  }

  /** Another rung won, or the client closed: end this attempt, saying how far it got. */
  abandon(): void {
    if (this.#stage === 'done' || this.#stage === 'verified') return;
    const reason = this.#stalledReason();
    this.#finish('abandoned', reason.code, reason.message);
    this.#transport.close(CloseCode.Abandoned, 'abandoned');
  }

  #message(text: string): void {
    if (this.#sink) {
      let frames: Frame[];
      try {
        frames = decode(text);
      } catch (e) {
        return this.#sink.close({ code: 'WF_PROTOCOL', message: (e as Error).message, cause: e });
      }
      return this.#sink.frames(frames);
    }
    if (this.#stage === 'done') return;
    let frames: Frame[];
    try {
      frames = decode(text);
    } catch (e) {
      const message = e instanceof DecodeError ? `malformed data from server: ${e.message}` : String(e);
      return this.#fail({ code: 'WF_PROTOCOL', message, cause: e });
    }
    for (let i = 0; i < frames.length; i++) {
      const f = frames[i]!;
      if (f.t === 'greet') {
        if (this.#stage !== 'greeted') {
          this.#stage = 'greeted';
          this.#arm(this.#timeouts.welcome);
        }
      } else if (f.t === 'welcome') {
        this.#stage = 'verified';
        this.#platform.clock.clearTimeout(this.#timer);
        this.record = this.#record('verified');
        return this.#onVerified(this, f, frames.slice(i + 1));
      } else if (f.t === 'error') {
        const code: ErrorCode =
          f.code === 'unauthorized' ? 'WF_UNAUTHORIZED' : f.code === 'unsupported_version' ? 'WF_VERSION' : 'WF_SERVER_ERROR';
        return this.#fail({ code, message: f.message, status: f.status, fromServer: true });
      }
      // Anything else before the welcome (a ping) only shows that the downlink works.
      else if (this.#stage !== 'greeted') this.#stage = 'greeted';
    }
  }

  #stalledReason(): { code: ErrorCode; message: string } {
    switch (this.#stage) {
      case 'connecting':
        return { code: 'WF_OPEN_TIMEOUT', message: 'no answer: the connection hangs' };
      case 'opened':
        return { code: 'WF_NO_DATA', message: 'opened, but no data arrived: frames dropped after the upgrade' };
      default:
        return { code: 'WF_NO_WELCOME', message: 'greeted, but the hello went unanswered: uplink swallowed or server too slow' };
    }
  }

  #arm(ms: number): void {
    const clock = this.#platform.clock;
    clock.clearTimeout(this.#timer);
    this.#timer = clock.setTimeout(() => {
      const r = this.#stalledReason();
      this.#transport.close(1000, 'timeout');
      this.#fail({ code: r.code, message: r.message });
    }, ms);
  }

  #fail(f: TransportFailure): void {
    if (this.#stage === 'done' || this.#stage === 'verified') return;
    this.#finish('failed', f.code, f.message, f.status);
    // A failure we decided (protocol error, server refusal) leaves the transport open otherwise.
    this.#transport.close(CloseCode.ProtocolError, f.code);
    const err = new WirefallError(f.code, f.message, {
      rung: this.rung.name,
      url: this.rung.url,
      status: f.status,
      closeCode: f.closeCode,
      cause: f.cause,
    });
    this.#onFailed(this, err, f.fromServer === true);
  }

  #finish(outcome: AttemptRecord['outcome'], reason: ErrorCode, message: string, status?: number): void {
    this.#stage = 'done';
    this.#platform.clock.clearTimeout(this.#timer);
    this.record = this.#record(outcome, reason, message, status);
  }

  #record(outcome: AttemptRecord['outcome'], reason?: ErrorCode, message?: string, status?: number): AttemptRecord {
    const r: AttemptRecord = {
      rung: this.rung.name,
      url: this.rung.url,
      startedAt: this.startedAt,
      duration: this.#platform.clock.now() - this.startedAt,
      outcome,
    };
    if (reason) r.reason = reason;
    if (status !== undefined) r.status = status;
    if (message) r.message = message;
    return r;
  }
}
