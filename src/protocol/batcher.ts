import { batch, encodeAck } from './encode';
import type { Inbox } from './inbox';
import type { Outbox } from './outbox';

/** The timers a batcher runs on: `platform.clock` on the client, real timers on the server. */
export interface BatchClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/**
 * Where a batcher writes: text (`send`), or, on a WebSocket, the frames themselves (`sendFrames`),
 * which it writes as a binary message when some carry bytes (§1.3).
 */
export interface Writer {
  send(text: string): void;
  sendFrames?(parts: readonly string[]): void;
}

export interface BatcherParts {
  clock: BatchClock;
  inbox: Inbox;
  outbox: Outbox;
  /** Where to write now; undefined while there is no live link (everything waits). */
  link(): Writer | undefined;
  /** How many bytes of messages one transport message may carry (the peer's limit). */
  slice(): number;
  /** Called after each write; `idle`: nothing was awaiting an ack before it (a deadline starts). */
  sent?(idle: boolean): void;
}

const done = Promise.resolve();

/**
 * How each side of a session writes, the same on client and server: control frames, the
 * cumulative ack and the unsent messages of the outbox leave together as one transport message.
 */
export interface Batcher {
  /** The peer reads an ack inside a `msg` frame (`pa`, §4): the ack rides in the first message. */
  pa?: boolean;
  /** The peer reads `run` frames (§1.4): a burst's messages of one type go as runs. */
  run?: boolean;
  /** Queues a control frame (ping, pong, ack) for the next write. */
  push(frame: string): void;
  /** Writes at the end of this tick: everything sent in one tick leaves as one batch. */
  schedule(): void;
  /**
   * A message arrived: its ack rides along with the next write, or alone within 20 ms, so a burst
   * costs one ack. The timer is not cleared by writes: in a conversation an armed timer finds
   * nothing to ack when it fires, and is armed again only by the next message after that. One
   * timer per 20 ms instead of a setTimeout and clearTimeout per message (both ends of a round
   * trip paid them).
   */
  ackSoon(): void;
  flush(): void;
  /** The link is gone: cancels the delayed ack and forgets queued control frames. */
  stop(): void;
}

/** A batcher writing `parts`' outbox (a closure: no class, no `this`, one `flush` for every scheduled write). */
export function createBatcher(parts: BatcherParts): Batcher {
  const { clock, inbox, outbox, link } = parts;
  let control: string[] = [];
  let queued = false;
  let ackTimer: unknown;
  const b: Batcher = {
    push: (frame) => void control.push(frame),
    schedule() {
      if (queued || !link()) return;
      queued = true;
      // A promise reaction, not queueMicrotask: Node wraps each queueMicrotask callback in an
      // AsyncResource, which showed in the round trip's profile (both ends schedule once a turn).
      void done.then(b.flush);
    },
    ackSoon() {
      ackTimer ??= clock.setTimeout(() => {
        ackTimer = undefined;
        b.flush();
      }, 20);
    },
    flush() {
      queued = false;
      const to = link();
      if (!to) return;
      const frames = control;
      control = [];
      const ack = inbox.takeAck();
      const idle = outbox.oldestInFlight() === undefined;
      const n = frames.length;
      // A long burst leaves in slices, so the receiver works while the sender is still sending.
      // The ack rides in the first message to a peer that reads it there (`pa`, §4): in a
      // conversation the peer parses one frame per turn instead of two. Else it goes first, alone.
      outbox.takeUnsent(parts.slice(), clock.now(), frames, b.pa ? ack : undefined, b.run);
      if (ack !== undefined && !(b.pa && frames.length > n)) frames.splice(n, 0, encodeAck(ack));
      if (!frames.length) return;
      if (to.sendFrames) to.sendFrames(frames);
      else to.send(batch(frames));
      if (outbox.hasUnsent) b.schedule();
      parts.sent?.(idle);
    },
    stop() {
      clock.clearTimeout(ackTimer);
      ackTimer = undefined;
      control = [];
    },
  };
  return b;
}
