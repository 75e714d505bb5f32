import type { createClient } from 'redis';
import type { FanoutPosition, SessionState } from '../handover';
import { decodeEntry, idAfter } from './redis-fanout';
import { REDIS_COMMAND_TIMEOUT_MS, within } from './redis-deadline';
import type { SeenNodes } from './redis-seen';
import type { FanOutEntry, StoreNode } from './types';

/** How long a moved session's catch-up waits for this node's subscriptions to its rooms. */
export const SUBSCRIBE_WAIT_MS = REDIS_COMMAND_TIMEOUT_MS;

/** What the sessions that moved here need of their node's Redis store. */
export interface FollowsParts {
  nodeId: string;
  logKey: string;
  node(): StoreNode | undefined;
  pub(): ReturnType<typeof createClient> | undefined;
  /** This node's subscription to `room`, once asked for (a moved member catches up once it is in place). */
  subscribed(room: string): Promise<unknown> | undefined;
  /** The log id of the last entry this node heard live; '' while the log was never read. */
  live(): string;
  /** Per publishing node, the last entry this node received (and delivered); this node's own too. */
  readonly seen: SeenNodes;
  /** Ends session `state` here and leaves it in the store, unowned, for its client to resume anywhere. */
  leave(state: SessionState, why: string): void;
  /** The number of this node's last published entry. */
  seq(): number;
}

/**
 * The sessions that moved to this node from another, while they catch up from the fan-out log
 * and skip what their old node had delivered (docs/scaling.md §5); and where in the fan-out
 * every session stands, for its record and for the node it moves to next.
 */
export class Follows {
  /** Fan-out entries delivered to moved sessions from the log (published while they moved). */
  caughtUp = 0;
  /** Moved sessions ended because they missed entries they could no longer get (`#lose`). */
  lost = 0;
  /** Malformed log entries skipped, and positions found past the log's end. */
  corrupt = 0;
  /** Moved sessions given back to the store, their room subscriptions not in place in time. */
  leftBack = 0;
  #p: FollowsParts;
  #follows = new Map<string, Follow>();

  constructor(parts: FollowsParts) {
    this.#p = parts;
  }

  /** True when session `id` must not get `entry` now (held while it catches up, or had already). */
  skips(id: string, entry: FanOutEntry): boolean {
    const f = this.#follows.get(id);
    if (!f) return false;
    if (f.lost) return true;
    if (f.catching) {
      // Held, in order, until what came before it is delivered from the log (bounded like a replay).
      if (!f.hold(entry)) this.#lose(id, f, 'more fan-out entries arrived while it caught up than a session holds');
      return true;
    }
    if (f.done(this.#p.live(), this.#p.seen)) this.#follows.delete(id);
    return f.had(entry, false);
  }

  /** Session `id`'s place in the fan-out log, for its record and for the node it moves to. */
  position(id: string): FanoutPosition | undefined {
    const f = this.#follows.get(id);
    if (f?.catching) return { id: f.floor, node: f.from.node, seq: f.from.seq };
    const live = this.#p.live();
    if (!live) return undefined; // the log was never read (Redis away since this node started)
    return { id: f && idAfter(f.floor, live) ? f.floor : live, node: this.#p.nodeId, seq: this.#p.seq() };
  }

  /**
   * A session was taken over here: it catches up from where its old node left it in the log.
   * `end`: the log's last entry when it was taken ('' for none): its old node wrote its place before
   * that, so whatever comes after `end` is new to it.
   */
  arrived(state: SessionState, end: string): void {
    let from = state.fanout;
    if (!from?.id) return;
    // Read back from Redis, checked like a peer's word: this node's own count can be no higher
    // than it is (a higher one would skip every entry this node publishes from now on).
    if (from.node === this.#p.nodeId && from.seq > this.#p.seq()) from = this.#corrected(state.id, { ...from, seq: this.#p.seq() });
    const f = new Follow(from, this.#p.nodeId, end);
    this.#follows.set(state.id, f);
    // After the hub has built the session from the state (that continues within this tick).
    setImmediate(() => void this.#catchUp(state, f));
  }

  /** Session `id` ended or left this node. */
  forget(id: string): void {
    this.#follows.delete(id);
  }

  async #catchUp(state: SessionState, f: Follow): Promise<void> {
    const { id, rooms } = state;
    const node = this.#p.node();
    try {
      // Entries published from here on reach this node live once the subscriptions are in place.
      // Not before: an entry for one of its rooms published in between would reach it neither
      // live nor from the log, without a word. Not for ever either (Redis away or hung): then the
      // session goes back to the store as it came, its client resumes (1001) wherever it lands,
      // and that node catches up from the same place (held entries are in the log as well).
      const subscribed = await within(Promise.all(rooms.map((r) => this.#p.subscribed(r))), 'the subscriptions of a moved session\'s rooms', SUBSCRIBE_WAIT_MS).then(() => true, () => false);
      if (!subscribed) {
        this.leftBack++;
        f.held = []; // in the log too: the next node catches up on them
        return this.#p.leave(state, `its rooms' subscriptions were not in place within ${SUBSCRIBE_WAIT_MS} ms`);
      }
      let more = true;
      for (let pub = this.#p.pub(); more && pub?.isReady && !f.lost; pub = this.#p.pub()) {
        // One transaction: is our place still in the log, and what comes after it.
        const [here, after] = await within(pub.multi().xRange(this.#p.logKey, f.floor, f.floor).xRange(this.#p.logKey, `(${f.floor}`, '+', { COUNT: 1000 }).exec(), 'the fan-out log');
        if (!(here as unknown as unknown[] | null)?.length && (await this.#trimmedPast(pub, f.floor))) {
          return this.#lose(id, f, 'the fan-out log no longer has what was published while it moved (more than fanoutLog entries)');
        }
        const batch = (after as unknown as { id: string; message: Record<string, string> }[] | null) ?? [];
        more = batch.length === 1000;
        for (const { id: logId, message } of batch) {
          const e = typeof message.m === 'string' ? decodeEntry(message.m, logId, node?.readable) : undefined;
          if (!e) this.#malformed(id, logId);
          else if (!f.had(e, true)) (node?.deliverTo(id, e), this.caughtUp++);
          f.floor = logId;
        }
      }
      // Redis went away between the take and the read: fan-out is at most once then (§3), but said.
      if (more && !f.lost) node?.logger.warn('redis store: Redis went away before a moved session caught up from the fan-out log; it may miss entries', { session: id });
    } catch (err) {
      node?.logger.warn(`redis store: catching a moved session up from the fan-out log failed; it may miss entries: ${String(err)}`, { session: id });
    } finally {
      f.catching = false;
      for (const e of f.lost ? [] : f.held.splice(0)) if (!f.had(e, false)) node?.deliverTo(id, e);
    }
  }

  /**
   * Whether the log may have lost entries after `floor`, a place that is no longer in it. The log
   * is trimmed from its oldest end, so that is when it trimmed anything and now begins after
   * `floor`. (Redis does not say what it trimmed: `max-deleted-entry-id` counts XDEL only.) A
   * floor that never was in this log (`0-0`: it was empty; or Redis restarted empty since) with
   * nothing trimmed lost nothing: those entries are caught up as before. Redis before 7 does not
   * count what was added, so there any trimming counts. Conservative: a floor trimmed exactly at
   * the last entry before the log's new start counts as lost too.
   */
  async #trimmedPast(pub: NonNullable<ReturnType<FollowsParts['pub']>>, floor: string): Promise<boolean> {
    const info = (await within(pub.xInfoStream(this.#p.logKey), 'the fan-out log').catch((err: unknown) => {
      // No log at all: nothing was ever trimmed. Anything else (a timeout) is the caller's failure.
      if (/no such key/i.test(String(err))) return undefined;
      throw err;
    })) as unknown as Record<string, unknown> | undefined;
    if (!info) return false;
    const added = info['entries-added'], length = info['length'];
    const trimmed = typeof added === 'number' && typeof length === 'number' ? added > length : true;
    const first = (info['first-entry'] as { id?: string } | null)?.id;
    return trimmed && (!first || idAfter(first, floor));
  }

  /** A position read back from Redis was impossible: said, counted, and `to` used instead. */
  #corrected(id: string, to: FanoutPosition): FanoutPosition {
    this.corrupt++;
    this.#p.node()?.logger.warn('redis store: a moved session\'s fan-out position counted more of this node\'s entries than it has published; corrected', { session: id });
    return to;
  }

  #malformed(id: string, logId: string): void {
    this.corrupt++;
    this.#p.node()?.logger.warn(`redis store: fan-out log entry ${logId} is not a well-formed wirefall entry; skipped`, { session: id });
  }

  /**
   * Session `id` missed fan-out entries it can no longer get. Rather than a silent gap, its node
   * ends it: its client's resume then gets a new session and says so (`sessionlost`), the one
   * signal that tells an app to fetch its state again (docs/scaling.md §5).
   */
  #lose(id: string, f: Follow, why: string): void {
    if (f.lost) return;
    f.lost = true;
    f.held = [];
    this.lost++;
    const node = this.#p.node();
    node?.logger.warn(`redis store: a session that moved here missed fan-out entries: ${why}; it ends, and its client is told (sessionlost)`, { session: id });
    // Not from within the node's delivery loop that asked `skips`.
    setImmediate(() => node?.lose(id, why));
  }
}

/**
 * How one session that arrived here from another node follows the fan-out (docs/scaling.md §5).
 * While it catches up from the log (`catching`), every entry for it is held in `held`, in order;
 * afterwards entries it had already got are skipped: those up to log id `floor` (the catch-up
 * delivered them), and those its old node published up to `from.seq` (delivered there before the
 * log had them).
 */
export class Follow {
  catching = true;
  held: FanOutEntry[] = [];
  /** It missed entries (the log trimmed them, or `held` overflowed): it ends, and gets nothing more. */
  lost = false;
  floor: string;
  readonly from: FanoutPosition;
  /**
   * This node's own entries that reached the session here (held): they reach the log only after
   * this node delivered them, so the catch-up must not deliver them again.
   */
  readonly ownHeld = new Set<number>();
  readonly self: string;
  /**
   * The log's last entry when the session was taken over ('' for none). Its old node's entries
   * after it came later, and are new to it whatever `from.seq` says (a corrupt record's count
   * must not hide them).
   */
  readonly end: string;

  constructor(from: FanoutPosition, self: string, end: string) {
    this.from = from;
    this.floor = from.id;
    this.self = self;
    this.end = end;
  }

  /** Holds `e` while catching up (bounded like a replay); false when there is no room left. */
  hold(e: FanOutEntry): boolean {
    if (this.held.length >= 10_000) return false;
    this.held.push(e);
    if (e.origin?.node === this.self) this.ownHeld.add(e.origin.seq);
    return true;
  }

  /** Whether this session got `e` already (or, from the log, gets it otherwise). */
  had(e: FanOutEntry, fromLog: boolean): boolean {
    const o = e.origin;
    if (o && o.node === this.from.node && o.seq <= this.from.seq && !(e.id && idAfter(e.id, this.end))) return true;
    // From the log, this node's own entries that the session got here (held) already.
    if (fromLog && o && o.node === this.self && this.ownHeld.has(o.seq)) return true;
    return e.id !== undefined && !idAfter(e.id, this.floor);
  }

  /** Done following: every entry this session could have had twice is behind this node's live position. */
  done(live: string, seen: SeenNodes): boolean {
    return !this.catching && !idAfter(this.floor, live) && (seen.get(this.from.node) >= this.from.seq || (this.from.node !== this.self && idAfter(live, this.end)));
  }
}
