/**
 * Every tab's copy of the session: its id and the unacknowledged sends with the numbers the leader
 * gave them. The leader mirrors a send to every tab before writing it, so whichever tab takes over
 * resumes with the same numbers and the server's de-duplication keeps each send exactly once.
 */
import type { SessionSeed } from '../core/session-tap';
import type { MirrorEntry, MirrorState } from './tab-protocol';

export class Mirror {
  session: { sid: string; key: string } | undefined;
  /** Highest number known acknowledged. */
  acked = 0;
  /** One past the highest number assigned. */
  next = 1;
  #entries = new Map<number, MirrorEntry>();

  assign(e: MirrorEntry): void {
    if (e.s > this.acked) this.#entries.set(e.s, e);
    this.next = Math.max(this.next, e.s + 1);
  }

  /** `s` was acknowledged: acks are cumulative, so everything up to it was too. */
  acknowledge(s: number): void {
    if (s <= this.acked) return;
    this.acked = s;
    for (const k of this.#entries.keys()) if (k <= s) this.#entries.delete(k);
  }

  /** `s` was rejected (the session was lost or closed): it will not be resent. */
  drop(s: number): void {
    this.#entries.delete(s);
  }

  /** The server lost the session: what remains is numbered from 1, as the leader's outbox does. */
  renumber(): void {
    const kept = this.entries();
    this.#entries.clear();
    this.acked = 0;
    this.next = 1;
    for (const e of kept) this.assign({ ...e, s: this.next });
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

  get bytes(): number {
    let n = 0;
    for (const e of this.#entries.values()) n += e.payload.length;
    return n;
  }

  state(): MirrorState {
    return { session: this.session, acked: this.acked, next: this.next, entries: this.entries() };
  }

  /** Takes in another tab's knowledge: the union of what either saw assigned, minus what either saw acked. */
  merge(o: MirrorState): void {
    this.session ??= o.session;
    this.next = Math.max(this.next, o.next);
    for (const e of o.entries) this.assign(e);
    this.acknowledge(o.acked);
  }

  /**
   * The session for a new leader to resume, or undefined when there is none. Entries must run
   * on from `acked + 1` without a hole; a hole means a mirror message was lost, and only the
   * contiguous head can keep its numbers (the rest is reported, docs/sharing.md).
   */
  seed(received: number): { seed: SessionSeed; entries: MirrorEntry[]; dropped: MirrorEntry[] } | undefined {
    if (!this.session) return undefined;
    const all = this.entries();
    const acked = all.length ? all[0]!.s - 1 : this.next - 1;
    let n = 0;
    while (n < all.length && all[n]!.s === acked + 1 + n) n++;
    const entries = all.slice(0, n);
    return {
      seed: { ...this.session, received, acked, entries: entries.map((e) => ({ ev: e.ev, payload: e.payload })) },
      entries,
      dropped: all.slice(n),
    };
  }
}
