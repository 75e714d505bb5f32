/**
 * The shared connection as one tab sees it: the leader's last snapshot (its state, rung, attempts,
 * rtt and whether its outbox is above the high-water mark), who waits for that outbox to drain,
 * and the leader's client events, told to this tab's app.
 */
import type { ClientEvents } from '../core/client-types';
import type { Emitter } from '../util/emitter';
import { errorFrom, type ErrorShape, type Snapshot, type TabMessage } from './tab-protocol';

export class View {
  snap: Snapshot = { state: 'connecting', rung: null, attempts: [], high: false };
  #wasOpen = false;
  #waiters: (() => void)[] = [];
  #events: Emitter<ClientEvents>;

  /** `events`: this tab's app's; `state` is told when the state or the rung changes. */
  constructor(events: Emitter<ClientEvents>) {
    this.#events = events;
  }

  /** An event of the leader's client, told to this tab's app. */
  event({ name, args }: Extract<TabMessage, { t: 'event' }>): void {
    if (name === 'error') this.#events.emit('error', errorFrom(args[0] as ErrorShape));
    else if (name === 'sessionlost') this.#events.emit('sessionlost', args[0] as never);
    else {
      // The snapshot's `high` too: the outbox fills and drains while the state stays the same.
      this.set({ ...this.snap, high: args[0] as boolean });
      this.#events.emit('backpressure', args[0] as boolean, args[1] as number);
    }
  }

  set(snap: Snapshot): void {
    const was = this.snap;
    // The first connection of a new leader is, for the tabs, the same connection coming back.
    if (snap.state === 'connecting' && this.#wasOpen) snap = { ...snap, state: 'reconnecting' };
    if (snap.state === 'open') this.#wasOpen = true;
    this.snap = snap;
    if (!snap.high) this.release();
    if (snap.state !== was.state || snap.rung !== was.rung) this.#events.emit('state', snap.state, snap.rung);
  }

  /** Resolves once the shared outbox is below its high-water mark; at once when `closed` (nothing is buffered any more). */
  whenWritable(closed: boolean): Promise<void> {
    return new Promise((resolve) => (this.snap.high && !closed ? this.#waiters.push(resolve) : resolve()));
  }

  release(): void {
    for (const r of this.#waiters.splice(0)) r();
  }
}
