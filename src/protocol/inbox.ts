/**
 * The receiving side of a session: which sequence numbers arrived, in order, and what still
 * needs acknowledging. Transports keep order, and a resume restarts at `received + 1`, so a
 * number below that is a resend to drop and a number above it means frames went missing.
 */
// Numbers, not words: the client's bundle carried the three words, where these are inlined.
export const NEW = 0;
export const DUPLICATE = 1;
export const GAP = 2;
export type Arrival = typeof NEW | typeof DUPLICATE | typeof GAP;

export class Inbox {
  /** Highest sequence number received in order. */
  received = 0;
  /** Highest sequence number acknowledged to the peer. */
  #acked = 0;

  #force = false;

  /** What may be acknowledged now: `received` (a durable server session holds it back, src/server/durable.ts). */
  get acknowledgeable(): number {
    return this.received;
  }

  accept(s: number): Arrival {
    if (s <= this.received) {
      // The peer resent what we have: it missed our ack, so repeat it.
      this.#force = true;
      return DUPLICATE;
    }
    if (s !== this.received + 1) return GAP;
    this.received = s;
    return NEW;
  }

  /** The ack to send, if anything arrived since the last one. */
  takeAck(): number | undefined {
    const a = this.acknowledgeable;
    if (a === this.#acked && !this.#force) return undefined;
    this.#force = false;
    this.#acked = a;
    return a;
  }

  /** A new transport starts: the peer learns `received` from the hello/welcome, not an ack. */
  resumed(): void {
    this.#acked = this.acknowledgeable;
  }

  reset(): void {
    this.#force = false;
    this.received = 0;
    this.#acked = 0;
  }
}
