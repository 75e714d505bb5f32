import { createHash } from 'node:crypto';
import type { OutboxState } from '../protocol/outbox';

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
   * Per publishing node, the last fan-out entry the old node had delivered when the session left
   * (set by the store): the new node skips those, so a broadcast is never delivered twice.
   */
  fanout?: Record<string, number>;
}

/** SHA-256 of a resume key, hex: what a store keeps instead of the key. */
export function keyHash(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** Whether `x` is a state this version can read (a store's data is checked like a peer's). */
export function isSessionState(x: unknown): x is SessionState {
  const s = x as SessionState;
  return (
    typeof s === 'object' && s !== null && s.v === 1 && typeof s.id === 'string' && typeof s.keyHash === 'string' &&
    typeof s.identity === 'string' && typeof s.user === 'string' && Number.isSafeInteger(s.received) &&
    typeof s.outbox === 'object' && s.outbox !== null && Number.isSafeInteger(s.outbox.next) && Number.isSafeInteger(s.outbox.acked) &&
    Array.isArray(s.outbox.entries) && s.outbox.entries.every(isEntry) && Array.isArray(s.rooms) && s.rooms.every((r) => typeof r === 'string') &&
    (s.fanout === undefined || (typeof s.fanout === 'object' && s.fanout !== null && Object.values(s.fanout).every((n) => Number.isSafeInteger(n))))
  );
}

function isEntry(e: unknown): boolean {
  // Number, type, payload, and the payload's encoding when it is not plain JSON.
  return Array.isArray(e) && (e.length === 3 || (e.length === 4 && typeof e[3] === 'string')) && Number.isSafeInteger(e[0]) && typeof e[1] === 'string' && typeof e[2] === 'string';
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
   */
  take(id: string, keyHash: string, identity: string): Promise<SessionState | undefined>;
  /** This node shuts down: keeps `states` for `ttlMs` (the session TTL), for the nodes their clients resume on. */
  park(states: SessionState[], ttlMs: number): Promise<void>;
}
