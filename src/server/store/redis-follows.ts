import type { createClient } from 'redis';
import type { FanoutPosition, SessionState } from '../handover';
import { decodeEntry, idAfter } from './redis-fanout';
import { within } from './redis-deadline';
import type { FanOutEntry, StoreNode } from './types';

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
  readonly seen: Map<string, number>;
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
  #p: FollowsParts;
  #follows = new Map<string, Follow>();

  constructor(parts: FollowsParts) {
    this.#p = parts;
  }

  /** True when session `id` must not get `entry` now (held while it catches up, or had already). */
  skips(id: string, entry: FanOutEntry): boolean {
    const f = this.#follows.get(id);
    if (!f) return false;
    if (f.catching) {
      // Held, in order, until what came before it is delivered from the log (bounded like a replay).
      if (!f.hold(entry) && f.overflow++ === 0) this.#p.node()?.logger.warn('redis store: a session catching up from the fan-out log missed entries (too many at once)', { session: id });
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

  /** A session was taken over here: it catches up from where its old node left it in the log. */
  arrived(state: SessionState): void {
    const from = state.fanout;
    if (!from?.id) return;
    const f = new Follow(from, this.#p.nodeId);
    this.#follows.set(state.id, f);
    // After the hub has built the session from the state (that continues within this tick).
    setImmediate(() => void this.#catchUp(state.id, state.rooms, f));
  }

  /** Session `id` ended or left this node. */
  forget(id: string): void {
    this.#follows.delete(id);
  }

  async #catchUp(id: string, rooms: string[], f: Follow): Promise<void> {
    const node = this.#p.node();
    try {
      // Entries published from here on reach this node live: the subscriptions are in place.
      await Promise.all(rooms.map((r) => this.#p.subscribed(r)));
      for (let more = true, pub = this.#p.pub(); more && pub?.isReady; pub = this.#p.pub()) {
        const batch = (await within(pub.xRange(this.#p.logKey, `(${f.floor}`, '+', { COUNT: 1000 }), 'the fan-out log')) ?? [];
        more = batch.length === 1000;
        for (const { id: logId, message } of batch) {
          const e = typeof message.m === 'string' ? decodeEntry(message.m, logId) : undefined;
          if (e && !f.had(e, true)) (node?.deliverTo(id, e), this.caughtUp++);
          f.floor = logId;
        }
      }
    } catch (err) {
      node?.logger.warn(`redis store: catching a moved session up from the fan-out log failed; it may miss entries: ${String(err)}`, { session: id });
    } finally {
      f.catching = false;
      for (const e of f.held.splice(0)) if (!f.had(e, false)) node?.deliverTo(id, e);
    }
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
  /** Entries that did not fit in `held` (bounded like a replay): reported, not silently dropped. */
  overflow = 0;
  floor: string;
  readonly from: FanoutPosition;
  /**
   * This node's own entries that reached the session here (held): they reach the log only after
   * this node delivered them, so the catch-up must not deliver them again.
   */
  readonly ownHeld = new Set<number>();
  readonly self: string;

  constructor(from: FanoutPosition, self: string) {
    this.from = from;
    this.floor = from.id;
    this.self = self;
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
    if (o && o.node === this.from.node && o.seq <= this.from.seq) return true;
    // From the log, this node's own entries that the session got here (held) already.
    if (fromLog && o && o.node === this.self && this.ownHeld.has(o.seq)) return true;
    return e.id !== undefined && !idAfter(e.id, this.floor);
  }

  /** Done following: every entry this session could have had twice is behind this node's live position. */
  done(live: string, seen: Map<string, number>): boolean {
    return !this.catching && !idAfter(this.floor, live) && (seen.get(this.from.node) ?? 0) >= this.from.seq;
  }
}
