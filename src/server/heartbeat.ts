/**
 * The server's side of liveness for one session's live link: a ping every interval, and the
 * verdict that the client is gone after two intervals and a margin of silence (it missed two of
 * our pings' answers). The client runs its own, stricter check (src/core/liveness.ts).
 */
export class Heartbeat {
  #ms: number;
  #timer: ReturnType<typeof setInterval> | undefined;
  #lastReceived = Date.now();

  constructor(ms: number) {
    this.#ms = ms;
  }

  /** Something arrived from the client. */
  seen(now = Date.now()): void {
    this.#lastReceived = now;
  }

  /** (Re)starts for a new link: `ping` each interval, `silent` once the client stopped answering. */
  start(ping: () => void, silent: () => void): void {
    this.stop();
    this.seen();
    this.#timer = setInterval(() => (Date.now() - this.#lastReceived > this.#ms * 2 + 1000 ? silent() : ping()), this.#ms);
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
