import type { Outbox, OutboxEntry, OutboxState } from '../protocol/outbox';
import { utf8Length } from '../protocol/limits';

// A server session's replay buffer as data, for another node to carry on (session-move.ts) or a
// durable store to keep (durable.ts). Here rather than on `Outbox`: the client bundle carries
// that class, and only servers move sessions.

const row = (e: OutboxEntry): OutboxState['entries'][number] => (e.e === undefined ? [e.s, e.ev, e.payload] : [e.s, e.ev, e.payload, e.e]);

/**
 * What a peer still needs, for another process to carry on (a server session moving to another
 * node): the unacknowledged messages with their numbers, the next number, the last ack.
 */
export function outboxState(o: Outbox): OutboxState {
  return { next: o.next, acked: o.acked, entries: o.q.map(row) };
}

/** The messages numbered `from` and above, as in `outboxState` (what a durable store has not got yet). */
export function outboxSince(o: Outbox, from: number): OutboxState['entries'] {
  const all = o.q;
  const first = all[0];
  return first ? all.slice(Math.max(0, from - first.s)).map(row) : [];
}

/** Takes over `state` (from `outboxState` elsewhere) in a new, empty outbox; all of it is resent. */
export function adoptOutbox(o: Outbox, state: OutboxState): void {
  o.load(state.next, state.acked, state.entries.map(([s, ev, payload, e]) => ({ s, ev, payload, e, n: utf8Length(payload), at: 0 })));
}
