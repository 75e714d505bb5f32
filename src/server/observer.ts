import type { RungName } from '../protocol/api';
import type { WireErrorCode } from '../protocol/wire-errors';
import type { AttemptReport } from './attempt-report';

/** What an observer may read of one session when it is scraped. */
export interface ObservedSession {
  readonly rung: RungName | null;
  /** The replay: messages (and their bytes) waiting for the client's acknowledgement. */
  readonly buffered: { messages: number; bytes: number };
}

/**
 * What a server tells about itself as it runs: `createServer({ metrics })`. `serverMetrics()`
 * from `wirefall/server/metrics` implements it with prom-client; the server never loads that
 * package itself. Without the option nothing is counted: each hook is one absent-property check.
 * Counting calls must be cheap (they run per message); gauges are read only when scraped.
 */
export interface ServerObserver {
  /**
   * Called once by `createServer`: the sessions of this server, read at scrape time. May return
   * the function that stops watching them: `server.close()` calls it, so that an observer shared
   * by servers that come and go (one process restarting its endpoint) does not keep the closed ones.
   */
  watch(sessions: () => Iterable<ObservedSession>): (() => void) | void;
  /** A new message from a client was handled (duplicates are not counted). */
  messageIn(): void;
  /** A message was queued for a client (each recipient of a broadcast counts). */
  messageOut(): void;
  /** A client reported the attempts that led to its connection (docs/protocol.md §4.1). */
  attempts(reports: readonly AttemptReport[]): void;
  /** A session moved: taken over from another node (`in`), given to one (`out`), or left in the store at shutdown (`parked`). */
  takeover(direction: 'in' | 'out' | 'parked'): void;
  /** The server refused a request or ended a link for a client's fault, with this wire code. */
  refused(code: WireErrorCode): void;
}
