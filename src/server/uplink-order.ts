/**
 * The reorder buffer of one HTTP link's uplink (protocol 3). The client keeps a few numbered
 * POSTs in flight (`n` = 1, 2, 3, … per link); they may arrive, or finish their bodies, in any
 * order, and a failed one comes again with its number. Their transport messages must reach the
 * session in number order, each once: a message gap is a protocol violation there.
 *
 * Pure: no timers, no I/O. The caller arms the deadline while `waiting` and answers each POST
 * when its message is released, which is the client's flow control: a POST held here keeps its
 * slot in the client's window, so a client that follows the protocol never passes the bounds.
 */
export interface UplinkBounds {
  /** Numbers accepted ahead of the next one expected: `n < next + window`. */
  window: number;
  /** Bytes (of body text) held at once, out of order. */
  maxBytes: number;
}

export type Offer<T> =
  /** Released in order: deliver these now, this POST's item last. */
  | { kind: 'ready'; items: T[] }
  /** Kept until the numbers before it arrive. */
  | { kind: 'held' }
  /** Kept already: this is a retry of a held POST; the item it replaced is returned. */
  | { kind: 'again'; replaced: T }
  /** Delivered already (a retry whose first answer was lost): drop it, answer it as done. */
  | { kind: 'done' }
  /** Beyond the window or the byte bound, or not a number ≥ 1: a client breaking the protocol. */
  | { kind: 'refused'; reason: string };

export class UplinkOrder<T> {
  #next = 1;
  #held = new Map<number, { item: T; bytes: number }>();
  #bytes = 0;
  #bounds: UplinkBounds;

  constructor(bounds: UplinkBounds) {
    this.#bounds = bounds;
  }

  /** True while something is held: a gap is open, and the caller's deadline runs. */
  get waiting(): boolean {
    return this.#held.size > 0;
  }

  /** The number expected next. */
  get next(): number {
    return this.#next;
  }

  /** POST number `n` with its body (`bytes` long) as `item`. */
  offer(n: number, item: T, bytes: number): Offer<T> {
    if (!Number.isSafeInteger(n) || n < 1) return { kind: 'refused', reason: `uplink number ${n} is not an integer ≥ 1` };
    if (n < this.#next) return { kind: 'done' };
    const had = this.#held.get(n);
    if (had) {
      // The retry's body is what is held now: counted at its own size, or a small POST resent
      // large would hold a whole body per number of the window, past the byte bound.
      if (this.#bytes - had.bytes + bytes > this.#bounds.maxBytes) return this.#over();
      this.#bytes += bytes - had.bytes;
      this.#held.set(n, { item, bytes });
      return { kind: 'again', replaced: had.item };
    }
    if (n >= this.#next + this.#bounds.window) return { kind: 'refused', reason: `uplink ${n} is too far ahead of ${this.#next}` };
    if (n > this.#next) {
      if (this.#bytes + bytes > this.#bounds.maxBytes) return this.#over();
      this.#held.set(n, { item, bytes });
      this.#bytes += bytes;
      return { kind: 'held' };
    }
    const items = [item];
    for (let h; (h = this.#held.get(++this.#next)); ) {
      this.#held.delete(this.#next);
      this.#bytes -= h.bytes;
      items.push(h.item);
    }
    return { kind: 'ready', items };
  }

  #over(): Offer<T> {
    return { kind: 'refused', reason: `more than ${this.#bounds.maxBytes} bytes of uplink out of order` };
  }

  /** Everything still held, emptied: the link ends (its deadline passed, or it closed). */
  drain(): T[] {
    const items = [...this.#held.values()].map((h) => h.item);
    this.#held.clear();
    this.#bytes = 0;
    return items;
  }
}
