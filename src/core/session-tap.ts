import type { Client } from './client';
import type { ClientOptions } from './options';
import type { Platform } from '../platform';

/**
 * How a sharing layer (src/share) sees into a client's session and seeds one. The core
 * knows nothing of tabs: it only reports what a hand-over needs (which number a send got, which
 * server message arrived with which number, the session's id) and can start from a session that
 * another context began, so that a new leader tab resumes it instead of opening another.
 */
export interface SessionSeed {
  sid: string;
  key: string;
  /** The last server message delivered (the resume `ack`). */
  received: number;
  /** The highest client sequence number the server acknowledged. */
  acked: number;
  /**
   * Unacknowledged sends with the numbers they were given, ascending, all above `acked`. A hole
   * (a number written but recorded nowhere) is allowed: the resumed welcome's `ack` settles where
   * numbering continues, and `renumbered` reports what moved.
   */
  entries: { s: number; ev: string; payload: string; enc?: string }[];
}

export interface SessionTap {
  /** Start from this session (its sends settle through the promises `seeded` receives). */
  seed?: SessionSeed;
  /** The promises of the seeded sends, in order (called once, at construction). */
  seeded?(settled: Promise<void>[]): void;
  /**
   * A send got its sequence number. Called before it is written to any transport. `enc`: the
   * payload's encoding when it is not plain JSON (`b64`: bytes inside). Calling `hold()` (only
   * during this call) keeps the send, and every later one, from being written until the function
   * it returns is called: the sharing layer waits for the sending tab to confirm its number.
   */
  assigned?(s: number, ev: string, payload: string, enc: string | undefined, hold: () => () => void): void;
  /**
   * A seeded client's first resumed welcome acknowledged `ack`: the seeded sends up to it are
   * acknowledged and every send above it now runs on contiguously from `ack + 1` (`moved` lists
   * each number that changed, `from` → `to`; often none). Called before any of them is written.
   */
  renumbered?(moved: { from: number; to: number }[], ack: number): void;
  /** A server message arrived in order; called before the subscribers hear it. */
  delivered?(s: number, ev: string, data: unknown): void;
  /** A welcome gave the session's id (new, or resumed). */
  welcomed?(sid: string, key: string, resumed: boolean): void;
  /** Asked when the client closes: true leaves the session for another context to resume (close 1001, not 1000). */
  keepSession?(): boolean;
}

/** What `connect` gives a share factory: the platform, and a way to make the real client. */
export interface ShareContext {
  url: string;
  options: ClientOptions;
  platform: Platform;
  /** Makes this context's own connection, seeing into its session through `tap`. */
  make(tap?: SessionTap): Client;
}

/** What `share()` from `wirefall/share` returns; `connect` calls it instead of making its own client. */
export type ShareFactory = (ctx: ShareContext) => Client;
