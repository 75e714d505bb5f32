import type { FanOutEntry, SessionStore, StoreNode } from './types';

/**
 * The default store: one process, nothing shared. Fan-out is a direct call into the node, so a
 * broadcast costs what it did before stores existed (the single-node path stays off any I/O).
 */
class MemoryStore implements SessionStore {
  readonly name = 'memory';
  #node: StoreNode | undefined;

  open(node: StoreNode): Promise<void> {
    this.#node = node;
    return Promise.resolve();
  }

  publish(entry: FanOutEntry): void {
    this.#node?.deliver(entry);
  }

  watch(): void {
    // One process: every member is local, there is nothing to subscribe to.
  }

  close(): Promise<void> {
    this.#node = undefined;
    return Promise.resolve();
  }
}

/**
 * The in-memory store (the default of `createServer`): for a single process.
 * @example
 * createServer({ store: memoryStore() });
 */
export function memoryStore(): SessionStore {
  return new MemoryStore();
}
