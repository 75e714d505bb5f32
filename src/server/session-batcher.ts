import { createBatcher, type Batcher, type BatchClock, type BatcherParts } from '../protocol/batcher';
import type { Link } from './link';
import type { ResolvedServerOptions } from './options';

/**
 * A session's batcher: the shared one, plus `reading`/`read` around each client message, and
 * `queued` after each of the app's.
 */
export interface SessionBatcher extends Batcher {
  /** A transport message from the client is being read: writes wait for `read()`. */
  reading(): void;
  /** The transport message was read: what it caused to be sent leaves now. */
  read(): void;
  /** The app queued a message in the outbox (`conn.sendEncoded`): it leaves now or with the tick. */
  queued(): void;
}

/** What a session's batcher needs: where it writes, what it writes, and the bounds of a write. */
export interface SessionBatcherParts extends Pick<BatcherParts, 'inbox' | 'outbox'> {
  /** The live link; undefined while the client is away. */
  link(): Link | undefined;
  opts: Pick<ResolvedServerOptions, 'maxMessageBytes' | 'maxBufferedBytes'>;
}

/**
 * A session's batcher. What the app sends from its handlers while a transport message of the
 * client's is read leaves once that message has been read, in one write, instead of from a promise
 * reaction at the end of the tick: in a conversation that is every reply, and the scheduling
 * promise and its reaction were one of the three promises the server made per round trip
 * (bench/rtt-trace.mjs). Sends from anywhere else are batched per tick, as ever.
 */
export function sessionBatcher(parts: SessionBatcherParts): SessionBatcher {
  const { inbox, outbox, link, opts } = parts;
  // A write is at most half the unread downlink a link may have (`full` holds messages back past
  // the other half), so a client that reads is never cut as a slow reader for our burst.
  const slice = Math.min(opts.maxMessageBytes, opts.maxBufferedBytes / 2);
  // The shared batcher calls its own `schedule` through the object (after a sliced write), so
  // replacing the property there covers its calls as well as ours.
  const b = createBatcher({ clock: realTimers, inbox, outbox, link, slice: () => slice }) as SessionBatcher;
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
  b.queued = () => {
    // A long burst in one tick leaves in slices as it is sent, as the client's does (core/client.ts):
    // the client reads while the app's loop still runs, and smaller writes are cheaper to make and
    // to parse (measured on SSE: CPU per message -10 % here, -15 % in the client). Not on
    // long-polling: there a write answers the poll, and the rest waits for the next one anyway.
    if (outbox.unsent >= URGENT && link()?.rung !== 'longpoll') b.flush();
    else b.schedule();
  };
  return b;
}

/** Unsent messages that make a write at once, within the tick (`queued`). */
const URGENT = 256;

/** The server runs on real timers; the client's batcher runs on `platform.clock`. */
const realTimers = { now: Date.now, setTimeout, clearTimeout } as BatchClock;
