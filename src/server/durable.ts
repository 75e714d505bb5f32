import { Inbox } from '../protocol/inbox';
import type { Outbox } from '../protocol/outbox';
import { outboxSince } from './outbox-state';
import type { LevelLogger } from './log';
import type { FanoutPosition, SessionRecords, SessionState } from './handover';
import type { FanOutEntry } from './store/types';

/**
 * A server session's inbox, with a gate: the highest number that may be acknowledged. A session
 * whose store makes it durable acknowledges a message only once what it caused is committed there;
 * unbounded by default. Here rather than on `Inbox`: the client's bundle carries that class.
 */
export class GatedInbox extends Inbox {
  gate = Infinity;

  override get acknowledgeable(): number {
    return Math.min(this.received, this.gate);
  }
}

/** A point the record holds (or will, once the commit in flight returns): what a hand-over may leave. */
export interface RecordPoint {
  received: number;
  next: number;
  position: FanoutPosition | undefined;
}

/** What a session's durable record needs of the session. */
export interface DurableParts {
  id: string;
  records: SessionRecords;
  inbox: GatedInbox;
  outbox: Outbox;
  ttlMs: number;
  logger: LevelLogger;
  /** The whole session as data (for a first write, or a write again after Redis lost it). */
  state(): SessionState;
  rooms(): string[];
  /** Something was committed: what it released may be written (acks, messages). */
  released(): void;
  /** Another node took the session over: it must end here, without a word to the store. */
  fenced(): void;
}

/**
 * Keeps one session's record in a durable store (docs/scaling.md §5), batch by batch. The session
 * handles a batch of client messages at once; what that changed (received, the messages it queued,
 * the client's acks, rooms) is committed in one write at the end of the tick, and only then does
 * the client hear of it: the inbox's and the outbox's gates hold the acks and the messages back
 * until their commit. A node killed before a commit has acknowledged nothing of the batch, and
 * written none of its messages: the client resends, the next owner handles it, nothing is doubled.
 *
 * While the store cannot be written (Redis away) the session goes on from memory, ungated, as a
 * session without a durable store does (a `kill -9` then loses it, and its client reports that);
 * it is written whole again once the store answers.
 */
export class Durable {
  /**
   * The session whose batch is being handled now (its handlers run synchronously): a broadcast or
   * room message they publish waits for that batch's commit, which publishes it (`stage`).
   */
  static current: Durable | undefined;

  /** Set while fan-out is queued to sessions: a node a session moves to delivers it again from the log. */
  static fanning = false;

  /** Runs `fn` (a batch's handlers) with `d` as the current durable session. */
  static during<T>(d: Durable | undefined, fn: () => T): T {
    const outer = Durable.current;
    Durable.current = d && !d.#degraded && !d.#ended ? d : undefined;
    try {
      return fn();
    } finally {
      Durable.current = outer;
    }
  }

  #p: DurableParts;
  /** Fan-out published by handlers of batches not committed yet. */
  #fanout: FanOutEntry[] = [];
  /** The epoch this node owns the record with; 0 until the first write. */
  epoch: number;
  /** What the record holds: next message number, received, acked, rooms. */
  #next: number;
  #received: number;
  #acked: number;
  #roomsDirty = false;
  #queued = false;
  #busy = false;
  #again = false;
  /** The store failed: the session runs ungated until a whole write succeeds (not before `#retryAt`). */
  #degraded = false;
  #retryAt = 0;
  #ended = false;
  /** What the record holds, and what the commit (or whole write) in flight will make it hold. */
  #point: RecordPoint | undefined;
  #inflight: RecordPoint | undefined;
  /** The outbox's next number, as `touch` last saw it (every queued message touches). */
  #seenNext: number;
  /**
   * The highest message number queued outside this session's own batches and outside fan-out: an
   * app's timer, an `await`, another session's handler. A node it moves to would not make it again.
   */
  #foreignLast = 0;
  /** The state this session left with is its record's point (`leaving`): its uncommitted batches run again elsewhere. */
  #leftAtPoint = false;
  /** Commits keep the record alive; an idle session is touched before its TTL runs out. */
  #keepAlive: ReturnType<typeof setInterval>;
  #lastWrite = Date.now();
  /**
   * How long each write keeps the record: the session TTL and one keep-alive period. Written
   * every period at the latest, a record whose node dies or hangs so still lives a whole TTL
   * after the last write: its client has `sessionTtlMs` to find it, as when the client leaves a
   * live node. (With the TTL alone it had as little as two thirds of it: under a node that hung
   * with 1,700 sessions, a client whose reconnects landed on the hung node, then backed off, came
   * back 47 s after the last write and found nothing; `npm run bench:failover` with
   * WF_FAILOVER_MODE=stop.)
   */
  #recordTtl: number;
  #run = () => void this.#commit();

  /** `from`: a state taken from the store (with its epoch); absent: a new session, written at once. */
  constructor(parts: DurableParts, from?: SessionState) {
    this.#p = parts;
    this.epoch = from?.epoch ?? 0;
    this.#next = from?.outbox.next ?? 1;
    this.#received = from?.received ?? 0;
    this.#acked = from?.outbox.acked ?? 0;
    this.#seenNext = parts.outbox.next;
    if (from) this.#point = { received: from.received, next: from.outbox.next, position: from.fanout };
    this.#gate();
    const every = Math.max(1000, Math.floor(parts.ttlMs / 3));
    this.#recordTtl = parts.ttlMs + every;
    this.#keepAlive = setInterval(() => Date.now() - this.#lastWrite >= every && this.#force(), every);
    this.#keepAlive.unref?.();
  }

  /** A new session's first write; resolves once it is durable (or the store failed: then it runs ungated). */
  async create(): Promise<void> {
    this.epoch = 1;
    await this.#whole();
  }

  /** The session changed (a batch was handled, a message queued, an ack or a room): commit at the end of the tick. */
  touch(rooms = false): void {
    if (rooms) this.#roomsDirty = true;
    const next = this.#p.outbox.next;
    if (next > this.#seenNext) {
      if (Durable.current !== this && !Durable.fanning) this.#foreignLast = next - 1;
      this.#seenNext = next;
    }
    if (this.#queued || this.#ended) return;
    this.#queued = true;
    queueMicrotask(this.#run);
  }

  /**
   * A handler of the current batch publishes `entry`: it goes out with the batch's commit (so a
   * batch that is never committed, and will be handled again elsewhere, published nothing).
   */
  stage(entry: FanOutEntry): void {
    this.#fanout.push(entry);
    this.touch();
  }

  /**
   * Where a hand-over may leave this session: the point its record holds, or will once the commit
   * in flight returns, when nothing past it would be lost by leaving from there. What lies past it
   * is the work of batches not committed yet (their messages, never written to the client, and
   * their fan-out, held), which the next node does again when the client resends them, as after a
   * `kill -9`; and fan-out, which it delivers again from the log. So whether the state that goes
   * is written or not (Redis fails in between), those batches run once: before, the state counted
   * them as handled and their fan-out was published here, and a failed write made the next node
   * run them from the last commit, publishing their broadcasts twice. Undefined (the whole session
   * leaves, as before) when a message past the point came from elsewhere (a timer, an `await`,
   * another session's handler: nobody would make it again), or while degraded (the client heard
   * everything: the gates were open), or without a fan-out position.
   */
  leaving(): RecordPoint | undefined {
    const p = this.#inflight ?? this.#point;
    const { inbox, outbox } = this.#p;
    if (this.#degraded || !p?.position || this.#foreignLast >= p.next) return undefined;
    if (p.received === inbox.received && p.next === outbox.next) return undefined;
    this.#leftAtPoint = true;
    return p;
  }

  /** The session ended here. `keep`: it moved on (its state went elsewhere): the record stays. */
  end(keep: boolean): void {
    this.#ended = true;
    clearInterval(this.#keepAlive);
    // Left at its record's point: its uncommitted batches run again on the next node, and publish
    // there. Otherwise they count as handled in whatever state goes on (the whole session, or
    // none: closed): publish.
    if (this.#leftAtPoint) this.#fanout = [];
    else if (this.#fanout.length) this.#p.records.publish(this.#fanout.splice(0));
    if (!keep && this.epoch) this.#p.records.drop(this.#p.id, this.epoch);
  }

  #force(): void {
    this.#roomsDirty = true;
    this.touch();
  }

  async #commit(): Promise<void> {
    this.#queued = false;
    if (this.#ended) return;
    if (this.#busy) return void (this.#again = true);
    const { inbox, outbox, records } = this.#p;
    if (this.#degraded && this.#fanout.length) records.publish(this.#fanout.splice(0));
    // Delivered here first, so that this session's own copies are in this very commit.
    const fanout = this.#fanout.length ? records.stage(this.#fanout.splice(0)) : undefined;
    const received = inbox.received, next = outbox.next, acked = outbox.acked;
    if (!fanout && received === this.#received && next === this.#next && acked === this.#acked && !this.#roomsDirty) return;
    this.#busy = true;
    try {
      if (this.#degraded) {
        if (Date.now() >= this.#retryAt) await this.#whole();
        return;
      }
      const rooms = this.#roomsDirty ? this.#p.rooms() : undefined;
      this.#roomsDirty = false;
      const entries = outboxSince(outbox, this.#next);
      // The commit writes the session's fan-out position now (read in the same synchronous step).
      this.#inflight = { received, next, position: records.position(this.#p.id) };
      const r = await records.commit(this.#p.id, this.epoch, { received, next, acked, entries, ...(rooms && { rooms }), ...(fanout && { fanout }) }, this.#recordTtl);
      if (this.#ended) return;
      if (r === 'fenced') return this.#fenced();
      if (r === 'missing') return (this.#inflight = undefined), void (await this.#whole()); // Redis restarted empty: write it again
      this.#point = this.#inflight;
      this.#committed(received, next, acked);
    } catch (err) {
      this.#degrade(err);
    } finally {
      this.#inflight = undefined;
      this.#busy = false;
      if (this.#again && !this.#ended) (this.#again = false), this.touch();
    }
  }

  /** Writes the whole session as it is now (first write, or after Redis lost or refused it). */
  async #whole(): Promise<void> {
    const state = this.#p.state();
    // From this snapshot on, nothing more reaches the client until it is written: while degraded
    // the gates were open, and what the client heard after the snapshot but before the next
    // commit would be missing from the record (a kill -9 then: a stale resume, or a gap).
    // (Never above what is committed: outside a degraded spell the gates are already lower.)
    const { inbox, outbox } = this.#p;
    inbox.gate = Math.min(inbox.gate, state.received);
    outbox.gate = Math.min(outbox.gate, state.outbox.next - 1);
    const writing = { received: state.received, next: state.outbox.next, position: state.fanout };
    this.#inflight = writing;
    try {
      const ok = await this.#p.records.put(state, this.epoch, this.#recordTtl);
      if (this.#ended) return;
      if (!ok) return this.#fenced();
      if (this.#degraded) this.#p.logger.info('session durable again', { session: this.#p.id });
      this.#degraded = false;
      this.#point = writing;
      this.#committed(state.received, state.outbox.next, state.outbox.acked);
    } catch (err) {
      this.#degrade(err);
    } finally {
      if (this.#inflight === writing) this.#inflight = undefined;
    }
  }

  /** Another node owns the session: what its batches published here stays unpublished elsewhere (they run again there). */
  #fenced(): void {
    this.#fanout = [];
    this.#p.fenced();
  }

  #committed(received: number, next: number, acked: number): void {
    this.#received = received;
    this.#next = next;
    this.#acked = acked;
    this.#lastWrite = Date.now();
    this.#gate();
    this.#p.released();
  }

  #degrade(err: unknown): void {
    if (!this.#degraded) this.#p.logger.warn(`session not durable while the store fails (a kill -9 now would lose it): ${String(err)}`, { session: this.#p.id });
    this.#degraded = true;
    this.#retryAt = Date.now() + 1000;
    this.#gate();
    this.#p.released();
    // Try again later even if the session stays quiet. The timer decides that the retry is due: it
    // may fire a millisecond before Date.now() reaches #retryAt (libuv counts from its cached loop
    // time), and then the forced commit skipped the write, with nothing left to retry it.
    setTimeout(() => ((this.#retryAt = 0), this.#force()), 1000).unref?.();
  }

  /** Acks and messages are released up to what the record holds (everything, while degraded). */
  #gate(): void {
    this.#p.inbox.gate = this.#degraded ? Infinity : this.#received;
    this.#p.outbox.gate = this.#degraded ? Infinity : this.#next - 1;
  }
}
