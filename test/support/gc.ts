import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

// A full collection on demand, without starting the test process with --expose-gc.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/**
 * Whether every object behind `refs` was collected: a few full collections, with turns of the
 * event loop between them (a closed socket's last callbacks run after its close), within `ms`.
 */
export async function collected(refs: readonly WeakRef<object>[], ms = 5000): Promise<boolean> {
  const end = Date.now() + ms;
  for (;;) {
    gc();
    if (refs.every((r) => r.deref() === undefined)) return true;
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Live objects among `refs` after a full collection. */
export function alive(refs: readonly WeakRef<object>[]): number {
  gc();
  return refs.filter((r) => r.deref() !== undefined).length;
}
