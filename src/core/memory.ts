import type { KeyValueStorage } from '../platform';
import type { RungName } from './rungs';

/** How many servers the process-wide memory holds at most (`processStorage`). */
export const PROCESS_MEMORY_MAX = 64;

/**
 * Where a platform without `localStorage` remembers: this process, shared by its clients. One
 * entry per server URL, so bounded (an app that connects to a server per tenant, or a test run,
 * kept every URL for the life of the process): past 64 it starts over. Forgetting costs one
 * climb per server, as an expired entry does; forgetting the oldest one first cost 17 B more of
 * the browser bundle, which carries this map but uses `localStorage`.
 */
const shared = new Map<string, string>();
const processStorage: KeyValueStorage = {
  // Undefined where Storage says null: the memory's JSON.parse throws on it, and shrugs.
  getItem: (k) => shared.get(k) as string,
  setItem: (k, v) => (shared.size > PROCESS_MEMORY_MAX - 1 && shared.clear(), shared.set(k, v)),
  removeItem: (k) => shared.delete(k),
};

/** @internal How many servers the process-wide memory holds now (tests). */
export const processMemorySize = (): number => shared.size;

/** Storage full, disabled, or holding garbage: the memory is an optimisation, so it shrugs. */
function safe<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch {
    return undefined;
  }
}

export type RungMemory = ReturnType<typeof rungMemory>;

/**
 * The last rung that worked per server, so that a page load behind a hostile proxy starts where
 * it ended up last time instead of paying the fallback again. Deliberately forgetful: entries
 * expire, a network change (`online`) clears them, and the climb goes back up, so one
 * bad day does not pin a client to long-polling.
 */
export function rungMemory(serverUrl: string, storage: KeyValueStorage = processStorage, ttlMs: number) {
  const key = `wirefall:rung:${serverUrl}`;
  const forget = () => safe(() => storage.removeItem(key));
  return {
    recall: (now: number): RungName | undefined =>
      safe(() => {
        const v = JSON.parse(storage.getItem(key)!) as { rung?: RungName; at?: number } | null;
        // Written so that an `at` that is not a number (NaN compares false) is forgotten too.
        if (v) return now - v.at! <= ttlMs && now >= v.at! ? v.rung : void forget();
      }),
    remember: (rung: RungName, now: number) => safe(() => storage.setItem(key, JSON.stringify({ rung, at: now }))),
    unlearn: forget,
  };
}
