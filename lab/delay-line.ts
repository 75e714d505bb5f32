import { performance } from 'node:perf_hooks';

/** Runs actions `ms` later in FIFO order with one timer, so latency never reorders bytes. */
export class DelayLine {
  readonly #ms: number;
  #queue: { due: number; run: () => void }[] = [];
  #timer: NodeJS.Timeout | undefined;
  constructor(ms: number) {
    this.#ms = ms;
  }
  push(run: () => void): void {
    if (this.#ms <= 0 && this.#queue.length === 0) return run();
    this.#queue.push({ due: performance.now() + this.#ms, run });
    this.#arm();
  }
  clear(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#queue = [];
  }
  #arm(): void {
    const first = this.#queue[0];
    if (this.#timer || !first) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      const now = performance.now();
      while (this.#queue[0] && this.#queue[0].due <= now) this.#queue.shift()!.run();
      this.#arm();
    }, Math.max(0, Math.ceil(first.due - performance.now())));
  }
}
