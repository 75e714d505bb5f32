import type { Frame, WelcomeFrame } from '../protocol/frames';
import type { Transport, TransportFailure } from '../transports/transport';
import type { ErrorCode } from '../protocol/errors';
import type { Rung, RungName } from './rungs';

// What one try of one rung is, as the race (./race.ts, which runs it) and the client see it.

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

/** Where a verified transport's events go once the live connection owns it: the live link itself. */
export interface LiveSink {
  /** True when the next long-poll should wait (transport.ts, `message`). */
  frames(frames: Frame[]): boolean | void;
  /** The transport closed, or sent what it could not decode. */
  close(failure: TransportFailure): void;
}

/** One try of one rung; the race (./race.ts) starts it. */
export interface Attempt {
  readonly rung: Rung;
  /** Its rung's place in the race's ladder (0: the best). */
  readonly rank: number;
  /** When it started (clock reading). */
  readonly began: number;
  /** Its record, set when it verified, failed or was abandoned. */
  verdict?: AttemptRecord;
  /** Clock readings when the transport opened and when the first frame arrived: evidence for the race. */
  openedAt?: number;
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
