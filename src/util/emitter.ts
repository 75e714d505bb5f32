/** A typed event emitter in the nanoevents style: `on()` returns the unsubscribe function. */
export class Emitter<Events extends { [K in keyof Events]: (...args: never[]) => void }> {
  #listeners: { [K in keyof Events]?: Events[K][] } = {};

  on<K extends keyof Events>(event: K, listener: Events[K]): () => void {
    (this.#listeners[event] ??= []).push(listener);
    return () => {
      this.#listeners[event] = this.#listeners[event]?.filter((l) => l !== listener);
    };
  }

  emit<K extends keyof Events>(event: K, ...args: Parameters<Events[K]>): void {
    // Iterate a snapshot so listeners may unsubscribe while being called.
    for (const l of this.#listeners[event] ?? []) (l as (...a: Parameters<Events[K]>) => void)(...args);
  }

  /**
   * Like `emit`, but a listener that throws, or returns a promise that rejects, is reported to
   * `onError` and the others still run: an app's listener must not take the emitter's owner (a
   * server process) down with it.
   */
  emitEach<K extends keyof Events>(onError: (err: unknown) => void, event: K, ...args: Parameters<Events[K]>): void {
    for (const l of this.#listeners[event] ?? []) {
      try {
        const r = (l as (...a: Parameters<Events[K]>) => unknown)(...args);
        if (isThenable(r)) r.then(undefined, onError);
      } catch (err) {
        onError(err);
      }
    }
  }

  count<K extends keyof Events>(event: K): number {
    return this.#listeners[event]?.length ?? 0;
  }

  clear(): void {
    this.#listeners = {};
  }
}

/** True for a promise or any thenable (an async listener's return value). */
export const isThenable = (x: unknown): x is PromiseLike<unknown> =>
  typeof x === 'object' && x !== null && typeof (x as PromiseLike<unknown>).then === 'function';
