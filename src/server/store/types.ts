import type { SessionMover, SessionState } from '../handover';
import type { RequestRoutes } from '../http-forward';
import type { Logger } from '../options';

export type { SessionMover, SessionState } from '../handover';
export type { RequestRoutes } from '../http-forward';

/**
 * One fan-out entry: a server message for every session (`room` absent: a broadcast) or for the
 * members of one room, encoded once whatever the number of recipients.
 */
export interface FanOutEntry {
  /** The room whose members get it; absent for a broadcast to every session. */
  room?: string;
  /** The message type (`ev` on the wire). */
  type: string;
  /** The message's data as JSON text. */
  payload: string;
  /** The payload's encoding when it is not plain JSON (`b64`: bytes inside). */
  e?: string;
  /** The id of a session that must not get it (`except`). */
  except?: string;
  /** Who published it, and its number among that node's entries (set by a store that numbers them). */
  origin?: { node: string; seq: number };
  /** Its id in the store's fan-out log (a store that keeps one; absent on the publisher's own node). */
  id?: string;
}

/** What a store sees of the node it serves. */
export interface StoreNode {
  /** Hands `entry` to this node's sessions: all of them, or its members of `entry.room`. */
  deliver(entry: FanOutEntry): void;
  /** Hands `entry` to session `id` alone, if it is here and the entry is for it (a catch-up from the log). */
  deliverTo(id: string, entry: FanOutEntry): void;
  /**
   * Whether this node's clients can decode a payload (JSON text) in encoding `e`: what a store
   * reads back is checked with it before it reaches them (store/well-formed.ts).
   */
  readable?(payload: string, e: string | undefined): boolean;
  /** Where the store reports what goes wrong (the server's throttled logger). */
  readonly logger: Logger;
  /**
   * Another node asks for session `id` (its client resumed there): ends it here and returns its
   * state, if this node has it for that key hash and identity; otherwise undefined. `leaving`: no
   * node asked, the store gives the session up (why): its links close with 1001, and its client
   * resumes on whatever node it reaches, which takes the state the store keeps.
   */
  surrender(id: string, keyHash: string, identity: string, leaving?: string): SessionState | undefined;
  /**
   * Session `id` missed fan-out entries the store can no longer give it (its log was trimmed past
   * them while the session moved): the node ends it, and its client's resume gets a new session
   * (`sessionlost`) instead of a silent gap.
   */
  lose(id: string, why: string): void;
  /**
   * The store answers again after an outage, and may have lost what it held (a Redis restarted
   * without persistence): every durable session commits again, and one whose record is gone
   * writes itself whole, the quiet ones too (else a `kill -9` before their next write lost them).
   */
  rewrite?(): void;
}

/**
 * Where a server shares what its nodes must agree on: today, fan-out (broadcasts and rooms).
 * `createServer({ store })`; the default, `memoryStore()`, delivers in the process and needs
 * nothing. `redisStore()` (`wirefall/server/redis`) spreads fan-out over every node that uses
 * the same Redis, and lets sessions move between nodes. The interface is small on purpose: a
 * NATS or Postgres store is these members. docs/scaling.md says what a store promises: the
 * Redis one also keeps every session durably (records, replay, fan-out log).
 *
 * One store serves one server; `server.close()` closes it.
 */
export interface SessionStore {
  /** A short name for logs and metrics (`memory`, `redis`). */
  readonly name: string;
  /**
   * The server starts: from now on `node.deliver` receives every entry published for it, by any
   * node (this one included). Rejects only when the store can never work (a bad URL); a store
   * that is merely unreachable keeps trying and says so through `node.logger`.
   */
  open(node: StoreNode): Promise<void>;
  /**
   * Sends `entry` to every node's sessions. Synchronous for the caller: this node's own sessions
   * get it before `publish` returns (a handler's `broadcast` is ordered with its `conn.send`s);
   * other nodes get it when the store carries it there.
   */
  publish(entry: FanOutEntry): void;
  /**
   * This node gained its first member of `room` (`present`) or lost its last: a store that
   * routes by room (sharded pub/sub) subscribes this node only to the rooms it has members in.
   */
  watch(room: string, present: boolean): void;
  /** The server stopped: release connections and subscriptions. */
  close(): Promise<void>;
  /**
   * Sessions that move between nodes (docs/scaling.md §4); absent: each session stays on its
   * node, and `server.close()` ends them.
   */
  readonly sessions?: SessionMover;
  /**
   * Where HTTP-rung requests go when the balancer spreads one session's requests over the nodes
   * (docs/scaling.md §4); absent: they must reach the node that holds the session (sticky).
   */
  readonly routes?: RequestRoutes;
  /**
   * True when session `id` must not get `entry` now: it moved here from a node that had delivered
   * it already, or it is catching up from the store's log and gets it after what came before
   * (docs/scaling.md §5). Absent: nothing is skipped.
   */
  skips?(id: string, entry: FanOutEntry): boolean;
}
