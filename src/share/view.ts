/**
 * The shared connection as one tab sees it: the leader's last snapshot (its state, rung, attempts,
 * rtt and whether its outbox is above the high-water mark), and who waits for that outbox to drain.
 */
import type { ConnectionState } from '../core/client-types';
import type { RungName } from '../protocol/api';
import type { Snapshot } from './tab-protocol';

export class View {
  snap: Snapshot = { state: 'connecting', rung: null, attempts: [], high: false };
  #wasOpen = false;
  #waiters: (() => void)[] = [];
  #changed: (state: ConnectionState, rung: RungName | null) => void;

  /** `changed`: the state or the rung changed (not called for the other fields). */
  constructor(changed: (state: ConnectionState, rung: RungName | null) => void) {
    this.#changed = changed;
  }

  set(snap: Snapshot): void {
    const was = this.snap;
    // The first connection of a new leader is, for the tabs, the same connection coming back.
    if (snap.state === 'connecting' && this.#wasOpen) snap = { ...snap, state: 'reconnecting' };
    if (snap.state === 'open') this.#wasOpen = true;
    this.snap = snap;
    if (!snap.high) this.release();
    if (snap.state !== was.state || snap.rung !== was.rung) this.#changed(snap.state, snap.rung);
  }

  /** Resolves once the shared outbox is below its high-water mark; at once when `closed` (nothing is buffered any more). */
  whenWritable(closed: boolean): Promise<void> {
    return new Promise((resolve) => (this.snap.high && !closed ? this.#waiters.push(resolve) : resolve()));
  }

  release(): void {
    for (const r of this.#waiters.splice(0)) r();
  }
}
