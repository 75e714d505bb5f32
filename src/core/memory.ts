import type { KeyValueStorage } from '../platform';
import type { RungName } from './rungs';

/**
 * The last rung that worked per server, so that a page load behind a hostile proxy starts where
 * it ended up last time instead of paying the fallback again. Deliberately forgetful: entries
 * expire, a network change (`online`) clears them, and the climb goes back up, so one
 * bad day does not pin a client to long-polling.
 */
export class RungMemory {
  #key: string;
  #storage: KeyValueStorage;
  #ttl: number;

  constructor(serverUrl: string, storage: KeyValueStorage | undefined, ttlMs: number) {
    this.#key = `wirefall:rung:${serverUrl}`;
    this.#storage = storage ?? memoryStorage();
    this.#ttl = ttlMs;
  }

  recall(now: number): RungName | undefined {
    try {
      const raw = this.#storage.getItem(this.#key);
      if (!raw) return undefined;
      const v = JSON.parse(raw) as { rung?: RungName; at?: number };
      if (typeof v.at !== 'number' || now - v.at > this.#ttl || now < v.at) return this.forget();
      return v.rung;
    } catch {
      return undefined; // storage full, disabled, or holding garbage: memory is an optimisation
    }
  }

  remember(rung: RungName, now: number): void {
    try {
      this.#storage.setItem(this.#key, JSON.stringify({ rung, at: now }));
    } catch {
      /* see recall */
    }
  }

  forget(): undefined {
    try {
      this.#storage.removeItem(this.#key);
    } catch {
      /* see recall */
    }
    return undefined;
  }
}

const shared = new Map<string, string>();
function memoryStorage(): KeyValueStorage {
  return {
    getItem: (k) => shared.get(k) ?? null,
    setItem: (k, v) => void shared.set(k, v),
    removeItem: (k) => void shared.delete(k),
  };
}
