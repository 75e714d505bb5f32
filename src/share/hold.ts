import type { Outbox, OutboxEntry } from '../protocol/outbox';

/** Per outbox, its held entries in push order (so in number order, renumbering included). */
const holds = new WeakMap<Outbox, Set<OutboxEntry>>();

/**
 * Holds the entry pushed last: it is not written, nor is any later one, until the returned
 * function releases it (then `wake` is called, to write). A leader writes another tab's send only
 * once that tab confirmed its number (docs/sharing.md). The hold is the outbox's `gate` (which the
 * core checks anyway, for the server's durable sessions): below the first held entry's number, read
 * when checked, since a lost session renumbers what it keeps. Only wirefall/share carries this.
 */
export function holdLast(outbox: Outbox, wake: () => void): () => void {
  let held = holds.get(outbox);
  if (!held) {
    const set = (held = new Set());
    holds.set(outbox, set);
    Object.defineProperty(outbox, 'gate', {
      get: () => {
        for (const e of set) return e.s - 1;
        return Infinity;
      },
    });
  }
  const e = outbox.q[outbox.q.length - 1]!;
  // No groups from now on: a held message must not hold back others' (`takeUnsent`).
  outbox.group = 0;
  held.add(e);
  return () => void (held.delete(e) && wake());
}
