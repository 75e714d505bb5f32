import type { PingFrame } from '../protocol/frames';
import { encodeFrame } from '../protocol/encode';

/** The pings a server writes (§5): a plain one (WebSocket), or one that says whether it wants an answer. */
export const PINGS = {
  plain: encodeFrame.ping(),
  ask: JSON.stringify({ t: 'ping', q: 0 } satisfies PingFrame),
  quiet: JSON.stringify({ t: 'ping', q: 1 } satisfies PingFrame),
};

/**
 * The server's side of liveness for one session's live link: a ping every interval, and the
 * verdict that the client is gone after `beats` intervals and a margin of silence: two by default
 * (it missed two of our pings' answers); three where our pings ask for an answer only every second
 * beat (SSE, docs/protocol.md §5). The client runs its own, stricter check (src/core/liveness.ts).
 */
/** The slowest uplink whose bytes count as the client speaking: 16 bytes a ms (16 KB/s). */
const MIN_RATE = 16;

export class Heartbeat {
  #ms: number;
  #timer: ReturnType<typeof setInterval> | undefined;
  #lastReceived = Date.now();

  constructor(ms: number) {
    this.#ms = ms;
  }

  /** Something arrived from the client (or it polled). */
  seen(now = Date.now()): void {
    this.#lastReceived = now;
  }

  /**
   * (Re)starts for a new link: `ping` each interval, `silent` once the client stopped answering.
   * `ping` learns whether the client was heard from within the last beat and a half (`lately`;
   * never so for a link's first ping, whose answer gives the client its round-trip time).
   */
  start(ping: (lately: boolean) => void, silent: () => void, beats = 2, received?: () => number): void {
    this.stop();
    this.seen();
    let first = true;
    let read = received?.() ?? 0;
    this.#timer = setInterval(() => {
      // Bytes still arriving for a frame not yet whole (a large message through a slow uplink; its
      // client waits as long for the ack, src/core/live-link.ts) are the client speaking, if they
      // come at least at MIN_RATE: a drip slower than that is not, or it could hold a session for ever.
      const got = received?.() ?? 0;
      if (got - read >= this.#ms * MIN_RATE) this.seen();
      read = got;
      const quiet = Date.now() - this.#lastReceived;
      if (quiet > this.#ms * beats + 1000) return silent();
      ping(!first && quiet < this.#ms * 1.5);
      first = false;
    }, this.#ms);
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
