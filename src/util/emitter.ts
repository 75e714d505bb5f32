/** A typed event emitter in the nanoevents style: `on()` returns the unsubscribe function. */
export class Emitter<Events extends { [K in keyof Events]: (...args: never[]) => void }> {
  #listeners: { [K in keyof Events]?: Events[K][] } = {};
  #caught: ((error: unknown, event: keyof Events) => void) | undefined;

  /**
   * With `caught`, a listener that throws, or returns a promise that rejects, is reported there
   * and the others are still called: an app's listener must not break the emitter's owner (a
   * client's state machine, a server process).
   */
  constructor(caught?: (error: unknown, event: keyof Events) => void) {
    this.#caught = caught;
  }

  on<K extends keyof Events>(event: K, listener: Events[K]): () => void {
    (this.#listeners[event] ??= []).push(listener);
    return () => {
      this.#listeners[event] = this.#listeners[event]?.filter((l) => l !== listener);
    };
  }

  emit<K extends keyof Events>(event: K, ...args: Parameters<Events[K]>): void {
    const caught = this.#caught;
    // Iterate a snapshot so listeners may unsubscribe while being called.
    for (const l of this.#listeners[event] ?? []) {
      try {
        const r = (l as (...a: Parameters<Events[K]>) => unknown)(...args);
        if (caught && isThenable(r)) r.then(undefined, (e: unknown) => caught(e, event));
      } catch (e) {
        if (!caught) throw e;
        caught(e, event);
      }
    }
  }

  count<K extends keyof Events>(event: K): number {
    return this.#listeners[event]?.length ?? 0;
  }
}

/** True for a promise or any thenable (an async listener's return value). */
export const isThenable = (x: unknown): x is PromiseLike<unknown> =>
  typeof x === 'object' && x !== null && typeof (x as PromiseLike<unknown>).then === 'function';
