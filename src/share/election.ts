/**
 * Leader election with Web Locks: every tab asks for one exclusive lock per server; the browser
 * grants it to one tab at a time and hands it to the next waiting tab the moment the holder
 * releases it, closes, crashes or is discarded. No heartbeat or timeout of ours decides who leads.
 */
import type { LocksLike } from '../platform';

export class Election {
  #locks: LocksLike;
  #name: string;
  #abort: AbortController | undefined;
  #release: (() => void) | undefined;

  constructor(locks: LocksLike, name: string) {
    this.#locks = locks;
    this.#name = name;
  }

  /** Waits for the lock; `lead` runs while it is held, until `resign()` or `cancel()`. */
  join(lead: () => void): void {
    if (this.#abort) return;
    const abort = (this.#abort = new AbortController());
    this.#locks
      .request(this.#name, { mode: 'exclusive', signal: abort.signal }, () => {
        if (abort.signal.aborted) return Promise.resolve();
        return new Promise<void>((release) => {
          this.#release = release;
          lead();
        });
      })
      // An aborted wait rejects with AbortError: that is the point of aborting.
      .catch(() => {});
  }

  get leading(): boolean {
    return !!this.#release;
  }

  /** Lets the lock go (the next tab in line gets it); stops waiting when not leading. */
  resign(): void {
    const release = this.#release;
    this.#release = undefined;
    this.#abort?.abort();
    this.#abort = undefined;
    release?.();
  }
}
