import { createBatcher, type Batcher, type BatcherParts } from '../protocol/batcher';

/** A session's batcher: the shared one, plus `reading`/`read` around each client message. */
export interface SessionBatcher extends Batcher {
  /** A transport message from the client is being read: writes wait for `read()`. */
  reading(): void;
  /** The transport message was read: what it caused to be sent leaves now. */
  read(): void;
}

/**
 * A session's batcher. What the app sends from its handlers while a transport message of the
 * client's is read leaves once that message has been read, in one write, instead of from a promise
 * reaction at the end of the tick: in a conversation that is every reply, and the scheduling
 * promise and its reaction were one of the three promises the server made per round trip
 * (bench/rtt-trace.mjs). Sends from anywhere else are batched per tick, as ever.
 */
export function sessionBatcher(parts: BatcherParts): SessionBatcher {
  // The shared batcher calls its own `schedule` through the object (after a sliced write), so
  // replacing the property there covers its calls as well as ours.
  const b = createBatcher(parts) as SessionBatcher;
  const schedule = b.schedule;
  let reading = false;
  let due = false;
  b.schedule = () => {
    if (reading) due = true;
    else schedule();
  };
  b.reading = () => {
    reading = true;
  };
  b.read = () => {
    reading = false;
    if (due) {
      due = false;
      b.flush();
    }
  };
  return b;
}
