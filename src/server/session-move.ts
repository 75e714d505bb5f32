import type { Outbox } from '../protocol/outbox';
import { adoptOutbox, outboxState } from './outbox-state';
import { CloseCode } from '../protocol/close-codes';
import { Durable, type GatedInbox } from './durable';
import { keyHash, type SessionRecords, type SessionState } from './handover';
import type { ResolvedServerOptions } from './options';

/** What moving a session between nodes needs of it. */
export interface MoveParts {
  conn: { readonly id: string; readonly key: string; readonly user: unknown; readonly rooms: string[] };
  inbox: GatedInbox;
  outbox: Outbox;
  opts: ResolvedServerOptions;
  /** Joins a room (a state taken over brings its rooms). */
  join(room: string): void;
  /** Something was committed: acks and messages it released may be written. */
  released(): void;
  /** Another node took the session over (fencing): it ends here, its links closed with `code`. */
  fenced(code: number): void;
}

/**
 * A session's side that moves between nodes (docs/scaling.md §4 and §5): the session as data for
 * another node, taking such data over, and its durable record when the store keeps one.
 */
export class SessionMove {
  #p: MoveParts;
  /** True for a session that moved here from another node (the app heard of it there). */
  moved = false;
  /** The session's durable record (durable.ts), with a store that keeps one. */
  durable: Durable | undefined;
  #records: SessionRecords | undefined;

  constructor(parts: MoveParts) {
    this.#p = parts;
  }

  /**
   * The session as data as it leaves this node (handed over, parked): who it is, what the client has
   * not acknowledged, what was received, its rooms, its epoch. With a durable record, as far as
   * the record goes when nothing past that would be lost (`Durable.leaving`): the batches not
   * committed yet run again on the next node, once, whether this state is written or not.
   */
  state(identity: string): SessionState {
    const now = this.#now(identity);
    const point = this.durable?.leaving();
    if (!point) return now;
    const { outbox } = now;
    return { ...now, received: point.received, outbox: { ...outbox, next: point.next, entries: outbox.entries.filter((e) => e[0] < point.next) }, fanout: point.position };
  }

  /** The session as data now (what a whole write of its record holds). */
  #now(identity: string): SessionState {
    const { conn, inbox, outbox } = this.#p;
    const epoch = this.durable?.epoch;
    // The fan-out position now: what the session's last batches publish as it leaves comes after it.
    const fanout = this.#records?.position(conn.id);
    return {
      v: 1, id: conn.id, keyHash: keyHash(conn.key), identity, user: JSON.stringify(conn.user) ?? 'null',
      received: inbox.received, outbox: outboxState(outbox), rooms: conn.rooms, ...(epoch !== undefined && { epoch }), ...(fanout && { fanout }),
    };
  }

  /** Takes over `state` (from another node) before the session's first link. */
  adopt(state: SessionState): void {
    this.moved = true;
    this.#p.inbox.received = state.received;
    adoptOutbox(this.#p.outbox, state.outbox);
    for (const room of state.rooms) this.#p.join(room);
  }

  /** Runs a durable session's batch handlers (`fn`): what they publish goes out with its commit. */
  during<T>(fn: () => T): T {
    const d = this.durable!;
    d.touch();
    return Durable.during(d, fn);
  }

  /**
   * From now on each batch is committed to `records` before the client hears of it. `from`: the
   * state the session was taken over from; absent, a new session, whose first write the returned
   * promise waits for.
   */
  keep(records: SessionRecords, identity: string, from?: SessionState): Promise<void> | undefined {
    const { conn, inbox, outbox, opts } = this.#p;
    this.#records = records;
    // A promise per message (no groups, protocol.md §4): the record's gate may cut a write inside a group.
    outbox.group = 0;
    const d = (this.durable = new Durable({
      id: conn.id, records, inbox, outbox, ttlMs: opts.sessionTtlMs, logger: opts.logger,
      state: () => this.#now(identity), rooms: () => conn.rooms,
      released: () => this.#p.released(),
      // Taken over elsewhere while this node stalled: the client is there already, or will be.
      fenced: () => this.#p.fenced(CloseCode.Replaced),
    }, from));
    return from ? undefined : d.create();
  }
}
