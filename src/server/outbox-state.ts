import { utf8Length, type Outbox, type OutboxEntry, type OutboxState } from '../protocol/outbox';

// A session's replay buffer as plain data and back, for the server alone: a session moving to
// another node (session-move.ts) and a durable store's commits (durable.ts).

const row = (e: OutboxEntry): OutboxState['entries'][number] => (e.e === undefined ? [e.s, e.ev, e.payload] : [e.s, e.ev, e.payload, e.e]);

/**
 * What a peer still needs, for another process to carry on: the unacknowledged messages with
 * their numbers, the next number, the last ack.
 */
export function outboxState(o: Outbox): OutboxState {
  return { next: o.next, acked: o.acked, entries: o.entries.map(row) };
}

/** The messages numbered `from` and above, as in `outboxState` (what a durable store has not got yet). */
export function outboxSince(o: Outbox, from: number): OutboxState['entries'] {
  const all = o.entries;
  const first = all[0];
  return first ? all.slice(Math.max(0, from - first.s)).map(row) : [];
}

/** Takes over `state` (from `outboxState` elsewhere) in a new, empty outbox; all of it is resent. */
export function adoptOutbox(o: Outbox, state: OutboxState): void {
  o.load(
    state.next,
    state.acked,
    state.entries.map(([s, ev, payload, e]) => ({ s, ev, payload, bytes: utf8Length(payload), sent: true, sentAt: 0, ...(e !== undefined && { e }) })),
  );
}
