import { createHash } from 'node:crypto';
import type { OutboxState } from '../protocol/outbox';
import type { FanOutEntry } from './store/types';
import { wellFormedMessage, wellFormedRoom, type Readable } from './store/well-formed';

/**
 * A session as plain data, for another node to carry on with (docs/scaling.md §4): what the
 * client has not acknowledged, what the server has received, the rooms, and who it belongs to.
 * It holds a hash of the resume key, never the key: the node that takes the session over checks
 * the hello's key against it, and a copy of the store lets nobody resume anything.
 */
export interface SessionState {
  /** Format version: a node must not misread a state written by a newer one. */
  v: 1;
  id: string;
  /** SHA-256 of the resume key, hex (`keyHash`). */
  keyHash: string;
  /** Who the session belongs to (`identify`, else the user's JSON): a take-over must match it. */
  identity: string;
  /** What `authenticate` returned, as JSON (a session moves only with a JSON-able user). */
  user: string;
  /** The last client message handled, in order (uplink de-duplication). */
  received: number;
  /** The replay: server messages the client has not acknowledged, with their numbers. */
  outbox: OutboxState;
  rooms: string[];
  /**
   * Where the session is in the fan-out log (set by a store that keeps one): the new node delivers
   * what came after it, and only that (docs/scaling.md §5).
   */
  fanout?: FanoutPosition;
  /** The ownership epoch the state was written or taken with (a store with durable records sets it). */
  epoch?: number;
}

/**
 * A session's place in a store's fan-out log: every entry up to log id `id` that was for it has
 * been delivered to it, and so has every entry `node` had published up to its `seq`th (a node
 * delivers its own entries before the log has them).
 */
export interface FanoutPosition {
  id: string;
  node: string;
  seq: number;
}

/** SHA-256 of a resume key, hex: what a store keeps instead of the key. */
export function keyHash(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** Whether `x` is a state this version can read (a store's data is checked like a peer's). */
export function isSessionState(x: unknown, readable?: Readable): x is SessionState {
  const s = x as SessionState;
  return (
    typeof s === 'object' && s !== null && s.v === 1 && typeof s.id === 'string' && typeof s.keyHash === 'string' &&
    typeof s.identity === 'string' && typeof s.user === 'string' && Number.isSafeInteger(s.received) &&
    typeof s.outbox === 'object' && s.outbox !== null && Number.isSafeInteger(s.outbox.next) && Number.isSafeInteger(s.outbox.acked) &&
    Array.isArray(s.outbox.entries) && s.outbox.entries.every((e) => isEntry(e, readable)) && contiguous(s.outbox) &&
    Array.isArray(s.rooms) && s.rooms.every(wellFormedRoom) &&
    (s.fanout === undefined || isPosition(s.fanout)) && (s.epoch === undefined || Number.isSafeInteger(s.epoch))
  );
}

/**
 * The replay numbers every message from `acked + 1` to `next - 1`, each once, in order: the client
 * takes a gap or a number out of order as a broken protocol, and a replay resent on every resume
 * would break every link of the session.
 */
function contiguous(o: OutboxState): boolean {
  return o.acked >= 0 && o.next === o.acked + 1 + o.entries.length && o.entries.every((e, i) => e[0] === o.acked + 1 + i);
}

/** Whether `x` is a `FanoutPosition`. */
export function isPosition(x: unknown): x is FanoutPosition {
  const p = x as FanoutPosition;
  return typeof p === 'object' && p !== null && typeof p.id === 'string' && typeof p.node === 'string' && Number.isSafeInteger(p.seq);
}

function isEntry(e: unknown, readable: Readable | undefined): boolean {
  // Number, type, payload, and the payload's encoding when it is not plain JSON.
  // A message the client's decoder would refuse is never sent (store/well-formed.ts).
  return Array.isArray(e) && (e.length === 3 || e.length === 4) && Number.isSafeInteger(e[0]) && wellFormedMessage(e[1], e[2], e[3], readable);
}

/** How a session is taken over (`SessionMover.take`). */
export interface TakeOptions {
  /** A store that keeps records keeps the taken one this long from now (the session TTL). */
  ttlMs: number;
  /**
   * True once the hello that asks for the session was abandoned by its client (another attempt of
   * its race won, perhaps on the node that has the session now): the session is then left where it
   * is, neither asked for nor claimed.
   */
  abandoned?: () => boolean;
}

/**
 * What a store offers for sessions that move between nodes. A store without it (the memory
 * store) keeps each session on its node.
 */
export interface SessionMover {
  /**
   * Takes session `id` over for this node: from a state a node left when it shut down, else from
   * the node that holds it now (which ends it there). Only for the same key hash and identity;
   * undefined when no node has it (it expired, its node was killed) or the owner did not answer.
   * Rejects when the store cannot answer: the session may well exist (the hub then asks the
   * client to come back, for up to `storeGraceMs`).
   */
  take(id: string, keyHash: string, identity: string, how: TakeOptions): Promise<SessionState | undefined>;
  /** This node shuts down: keeps `states` for `ttlMs` (the session TTL), for the nodes their clients resume on. */
  park(states: SessionState[], ttlMs: number): Promise<void>;
  /** Present when the store keeps every session durably, batch by batch (docs/scaling.md §5). */
  readonly records?: SessionRecords;
}

/** What a batch of a live session adds to its durable record. */
export interface RecordDelta {
  received: number;
  next: number;
  acked: number;
  /** The messages numbered from the record's `next` on. */
  entries: OutboxState['entries'];
  /** Present when membership changed. */
  rooms?: string[];
  /** Broadcasts and room messages the batch's handlers published (`stage`): the commit publishes them. */
  fanout?: StagedFanout;
}

/** Fan-out entries of one batch, delivered on this node and ready for its commit (`SessionRecords.stage`). */
export interface StagedFanout {
  channels: string[];
  texts: string[];
}

/**
 * Durable session records (docs/scaling.md §5): a session is written when it starts and after
 * every batch, before the client hears of the batch (acks, messages), so a node killed with
 * `kill -9` loses nothing: another node takes the record. Every write carries the writer's
 * epoch; a take-over bumps it, and the old owner's writes are refused (`fenced`).
 */
export interface SessionRecords {
  /** Writes the whole session as `epoch`'s owner (a new session: epoch 1). False: fenced. */
  put(state: SessionState, epoch: number, ttlMs: number): Promise<boolean>;
  /** Adds a batch. `missing`: no record (Redis lost it); `fenced`: another node owns it now. */
  commit(id: string, epoch: number, delta: RecordDelta, ttlMs: number): Promise<'ok' | 'fenced' | 'missing'>;
  /** The session ended for good: forget it (if `epoch` still owns it). */
  drop(id: string, epoch: number): void;
  /**
   * Broadcasts and room messages a batch's handlers published: delivered to this node's sessions
   * now, and returned for the batch's commit, which publishes them to the other nodes in the same
   * step (a batch that is never committed published nothing elsewhere: its client resends it).
   */
  stage(entries: FanOutEntry[]): StagedFanout;
  /** Publishes `entries` at once (a batch whose session ended before its commit: it moved on whole). */
  publish(entries: FanOutEntry[]): void;
  /** Session `id`'s place in the fan-out log now (taken with its state, before anything else is published). */
  position(id: string): FanoutPosition | undefined;
}
