import { Batcher } from '../protocol/batcher';

/**
 * A session's batcher. What the app sends from its handlers while a transport message of the
 * client's is read leaves once that message has been read, in one write, instead of from a promise
 * reaction at the end of the tick: in a conversation that is every reply, and the scheduling
 * promise and its reaction were one of the three promises the server made per round trip
 * (bench/rtt-trace.mjs). Sends from anywhere else are batched per tick, as ever.
 */
export class SessionBatcher extends Batcher {
  #reading = false;
  #due = false;

  override schedule(): void {
    if (this.#reading) this.#due = true;
    else super.schedule();
  }

  /** A transport message from the client is being read: writes wait for `read()`. */
  reading(): void {
    this.#reading = true;
  }

  /** The transport message was read: what it caused to be sent leaves now. */
  read(): void {
    this.#reading = false;
    if (this.#due) {
      this.#due = false;
      this.flush();
    }
  }
}
