/** A typed event emitter in the nanoevents style: `on()` returns the unsubscribe function. */
export class Emitter<Events extends { [K in keyof Events]: (...args: never[]) => void }> {
  #listeners: { [K in keyof Events]?: Events[K][] } = {};
  #caught: ((error: unknown, event: keyof Events) => void) | undefined;

  /** With `caught`, a listener that throws is reported there and the others are still called. */
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
    // Iterate a snapshot so listeners may unsubscribe while being called.
    for (const l of this.#listeners[event] ?? []) {
      try {
        (l as (...a: Parameters<Events[K]>) => void)(...args);
      } catch (e) {
        if (!this.#caught) throw e;
        this.#caught(e, event);
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
