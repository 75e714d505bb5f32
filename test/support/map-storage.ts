import type { KeyValueStorage } from '../../src/index';

/** A fresh localStorage-shaped store, so tests never share the rung memory. */
export function mapStorage(): KeyValueStorage & { map: Map<string, string> } {
  const map = new Map<string, string>();
  return {
    map,
    getItem: (k) => map.get(k) ?? null,
    setItem: (k, v) => void map.set(k, v),
    removeItem: (k) => void map.delete(k),
  };
}
