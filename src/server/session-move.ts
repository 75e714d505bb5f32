import type { Inbox } from '../protocol/inbox';
import type { Outbox } from '../protocol/outbox';
import { keyHash, type SessionState } from './handover';

/**
 * A session as data for another node (docs/scaling.md §4), from what it is made of: who it is,
 * what the client has not acknowledged, what was received, its rooms and its ownership epoch.
 */
export function sessionState(
  conn: { id: string; key: string; user: unknown; rooms: string[] },
  identity: string, inbox: Inbox, outbox: Outbox, epoch: number | undefined,
): SessionState {
  return {
    v: 1, id: conn.id, keyHash: keyHash(conn.key), identity, user: JSON.stringify(conn.user) ?? 'null',
    received: inbox.received, outbox: outbox.state(), rooms: conn.rooms, ...(epoch !== undefined && { epoch }),
  };
}

/** A new session on this node takes over `state` (before its first link). */
export function adoptState(inbox: Inbox, outbox: Outbox, state: SessionState): void {
  inbox.received = state.received;
  outbox.adopt(state.outbox);
}
