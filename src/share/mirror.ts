/**
 * Every tab's copy of the session: its id and the unacknowledged sends with the numbers the leader
 * gave them. The leader mirrors a send to every tab before writing it, so whichever tab takes over
 * resumes with the same numbers and the server's de-duplication keeps each send exactly once.
 */
import { utf8Length } from '../protocol/limits';
import type { SessionSeed } from './tap';
import type { MirrorEntry, MirrorState } from './tab-protocol';

/** How many tabs' acknowledged call ids a mirror keeps (`Mirror.ackedCall`). */
export const ACKED_TABS = 64;

export class Mirror {
  session: { sid: string; key: string } | undefined;
  /** Highest number known acknowledged. */
  acked = 0;
  /** One past the highest number assigned. */
  next = 1;
  #entries = new Map<number, MirrorEntry>();
  /** The entries' payload bytes, kept as they come and go: `buffered` is read often, and a sum over every entry was O(n). */
  bytes = 0;
  /**
   * Per tab, the highest call id of its sends that the server acknowledged. A tab back from the
   * back/forward cache heard no `done` while it was away: this tells it which of its sends settled
   * meanwhile. One id says it: a tab's sends get their numbers in the order of its call ids, and
   * acks are cumulative. Kept for the last `ACKED_TABS` tabs (a cached tab may never come back).
   */
  #ackedCalls = new Map<string, number>();

  assign(e: MirrorEntry): void {
    // `n`: the payload's UTF-8 bytes, the unit of the connection's own `buffered`, measured by the
    // leader's outbox (a tab of an older version sends none: measured here, once).
    if (e.s > this.acked) this.drop(e.s), this.#entries.set(e.s, e), (this.bytes += e.n ??= utf8Length(e.payload));
    this.next = Math.max(this.next, e.s + 1);
  }

  /** `s` was acknowledged: acks are cumulative, so everything up to it was too. */
  acknowledge(s: number): void {
    if (s <= this.acked) return;
    this.acked = s;
    for (const k of this.#entries.keys()) if (k <= s) this.drop(k);
  }

  /** Tab `tab`'s send `id` was acknowledged, and so were its sends before it. */
  ackedCall(tab: string, id: number): void {
    if (id <= this.ackedUpTo(tab)) return;
    // Re-inserted: the map's order is the order tabs were last heard of, the oldest goes first.
    this.#ackedCalls.delete(tab);
    this.#ackedCalls.set(tab, id);
    if (this.#ackedCalls.size > ACKED_TABS) this.#ackedCalls.delete(this.#ackedCalls.keys().next().value!);
  }

  /** The highest call id of `tab`'s sends known acknowledged (0: none). */
  ackedUpTo(tab: string): number {
    return this.#ackedCalls.get(tab) ?? 0;
  }

  /** Tab `tab` closed for good: its calls will not be asked about. */
  forget(tab: string): void {
    this.#ackedCalls.delete(tab);
  }

  /** `s` was rejected (the session was lost or closed), or acknowledged: it will not be resent. */
  drop(s: number): void {
    const e = this.#entries.get(s);
    if (e) this.#entries.delete(s), (this.bytes -= e.n!);
  }

  /** The server lost the session: what remains is numbered from 1, as the leader's outbox does. */
  renumber(): void {
    const kept = this.clear();
    for (const e of kept) this.assign({ ...e, s: this.next });
  }

  /** Forgets every entry and number (they belong to no session a leader can resume); returns the entries. */
  clear(): MirrorEntry[] {
    const kept = this.entries();
    this.#entries.clear();
    this.bytes = 0;
    this.acked = 0;
    this.next = 1;
    return kept;
  }

  has(from: string, id: number): boolean {
    for (const e of this.#entries.values()) if (e.from === from && e.id === id) return true;
    return false;
  }

  entries(): MirrorEntry[] {
    return [...this.#entries.values()].sort((a, b) => a.s - b.s);
  }

  get size(): number {
    return this.#entries.size;
  }

  state(): MirrorState {
    return { session: this.session, acked: this.acked, next: this.next, entries: this.entries(), calls: Object.fromEntries(this.#ackedCalls) };
  }

  /** Takes in another tab's knowledge: the union of what either saw assigned, minus what either saw acked. */
  merge(o: MirrorState): void {
    this.session ??= o.session;
    this.next = Math.max(this.next, o.next);
    for (const e of o.entries) this.assign(e);
    this.acknowledge(o.acked);
    for (const [tab, id] of Object.entries(o.calls ?? {})) this.ackedCall(tab, id);
  }

  /**
   * A new leader's resumed welcome settled the numbers (seedOutbox, ./seeding.ts): everything up to
   * `ack` was received, and the sends in `moved` now carry new numbers. All moves apply at once,
   * since one entry's new number may be another's old one.
   */
  renumbered(moved: { from: number; to: number }[], ack: number): void {
    const taken = moved.flatMap(({ from, to }) => {
      const e = this.#entries.get(from);
      this.drop(from);
      return e ? [{ ...e, s: to }] : [];
    });
    this.acknowledge(ack);
    this.next = Math.max(this.next, ack + 1);
    for (const e of taken) this.assign(e);
  }

  /**
   * The session for a new leader to resume, or undefined when there is none: every entry with
   * the number it was given. A hole (a number the old leader wrote but no tab recorded, its
   * `assigned` lost with a crashed renderer) is kept as it is: the resumed welcome's ack decides
   * which entries the server has and renumbers the rest (docs/sharing.md, "Hand-over").
   */
  seed(received: number): { seed: SessionSeed; entries: MirrorEntry[] } | undefined {
    if (!this.session) return undefined;
    const entries = this.entries();
    return {
      seed: { ...this.session, received, acked: this.acked, entries: entries.map((e) => ({ s: e.s, ev: e.ev, payload: e.payload, enc: e.enc })) },
      entries,
    };
  }
}
