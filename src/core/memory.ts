import type { KeyValueStorage } from '../platform';
import type { RungName } from './rungs';

/** Where a platform without `localStorage` remembers: this process, shared by its clients. */
const shared = new Map<string, string>();
const processStorage: KeyValueStorage = {
  getItem: (k) => shared.get(k) ?? null,
  setItem: (k, v) => void shared.set(k, v),
  removeItem: (k) => void shared.delete(k),
};

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
  const forget = (): undefined => safe(() => storage.removeItem(key)) as undefined;
  return {
    recall: (now: number): RungName | undefined =>
      safe(() => {
        const v = JSON.parse(storage.getItem(key)!) as { rung?: RungName; at?: number } | null;
        if (v) return typeof v.at !== 'number' || now - v.at > ttlMs || now < v.at ? forget() : v.rung;
      }),
    remember: (rung: RungName, now: number) => safe(() => storage.setItem(key, JSON.stringify({ rung, at: now }))),
    forget,
  };
}
