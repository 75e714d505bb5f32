import type { createClient } from 'redis';

type Client = ReturnType<typeof createClient>;

/**
 * Subscribing commands outstanding at once on the subscribing connection. node-redis queues
 * SSUBSCRIBE and SUNSUBSCRIBE whatever its offline-queue option says (they bypass its queue bound
 * too): before, every room joined or left during an outage (or while Redis hung, its connection
 * open) was one more queued command, for as long as it lasted, all replayed at once afterwards.
 */
export const MAX_PENDING = 100;

/**
 * This node's subscriptions to its rooms' channels (docs/scaling.md §3), kept in step with the
 * rooms it has members in: what it should be subscribed to is known here (`want`), so nothing
 * is queued for Redis while it is away or slow. Each change, each settled command and each
 * (re)connect compares what is wanted with what node-redis holds, and sends the difference, at
 * most `MAX_PENDING` commands at a time.
 */
export class RoomSubscriptions {
  #sub: () => Client | undefined;
  #channel: (room: string) => string;
  #listener: (message: string, channel: string) => void;
  #warn: (message: string) => void;
  /** Rooms this node has members in. */
  #want = new Set<string>();
  /** Rooms with a command on its way, and which. */
  #pending = new Map<string, boolean>();
  /** Moved sessions waiting until a room's subscription is in place (`subscribed`). */
  #waiters = new Map<string, (() => void)[]>();

  constructor(parts: { sub: () => Client | undefined; channel: (room: string) => string; listener: (message: string, channel: string) => void; warn: (message: string) => void }) {
    this.#sub = parts.sub;
    this.#channel = parts.channel;
    this.#listener = parts.listener;
    this.#warn = parts.warn;
  }

  /** Commands sent and not yet answered (for tests: bounded by `MAX_PENDING`). */
  get pending(): number {
    return this.#pending.size;
  }

  /** This node gained its first member of `room` (`present`), or lost its last. */
  watch(room: string, present: boolean): void {
    if (present) this.#want.add(room);
    else this.#want.delete(room) && this.#release(room);
    this.sync();
  }

  /** Resolves once this node hears `room`'s channel (or no longer wants it). */
  subscribed(room: string): Promise<void> {
    if (!this.#want.has(room) || this.#holds(room)) return Promise.resolve();
    return new Promise((resolve) => {
      const list = this.#waiters.get(room);
      if (list) list.push(resolve);
      else this.#waiters.set(room, [resolve]);
    });
  }

  /** Sends what differs between the rooms wanted and the channels held (after a change, an answer, a reconnect). */
  sync(): void {
    const sub = this.#sub();
    if (!sub?.isReady) return;
    for (const room of this.#want) {
      if (this.#pending.size >= MAX_PENDING) return;
      if (!this.#pending.has(room) && !this.#holds(room)) this.#send(sub, room, true);
    }
    const prefix = this.#channel('');
    for (const channel of this.#held(sub).keys()) {
      if (this.#pending.size >= MAX_PENDING) return;
      const room = channel.slice(prefix.length);
      if (channel.startsWith(prefix) && !this.#want.has(room) && !this.#pending.has(room)) this.#send(sub, room, false);
    }
  }

  /** The store closes: nobody waits any more. */
  close(): void {
    for (const room of [...this.#waiters.keys()]) this.#release(room);
  }

  #send(sub: Client, room: string, present: boolean): void {
    this.#pending.set(room, present);
    const channel = this.#channel(room);
    const done = present ? sub.sSubscribe(channel, this.#listener) : sub.sUnsubscribe(channel, this.#listener);
    done.then(
      () => present && this.#release(room),
      (err: unknown) => this.#warn(`redis store: ${present ? 'subscribing to' : 'leaving'} room ${room} failed (tried again once Redis answers): ${String(err)}`),
    ).finally(() => {
      this.#pending.delete(room);
      this.sync();
    });
  }

  #holds(room: string): boolean {
    const sub = this.#sub();
    return !!sub && this.#held(sub).has(this.#channel(room)) && this.#pending.get(room) !== false;
  }

  /** The sharded channels node-redis has confirmed (and subscribes to again after a reconnect). */
  #held(sub: Client): Map<string, unknown> {
    return (sub.getPubSubListeners('SHARDED' as Parameters<Client['getPubSubListeners']>[0]) as Map<string, unknown> | undefined) ?? new Map();
  }

  #release(room: string): void {
    const list = this.#waiters.get(room);
    this.#waiters.delete(room);
    for (const resolve of list ?? []) resolve();
  }
}
