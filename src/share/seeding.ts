import type { Outbox } from '../protocol/outbox';

/** A moved number: what the first resumed welcome's ack reports to the mirrors (`renumbered`). */
export type Moved = { from: number; to: number };

/**
 * Starts a client's outbox from another context's unacknowledged messages (a tab hand-over), with
 * the numbers that context gave them (ascending, all above `acked`; a number the old writer used
 * but nobody recorded leaves a hole). They count as written, since the server may have seen them
 * (a lost session must report them, not send them again under new numbers). Until the first
 * resumed welcome settles the numbering (its ack: the outbox's `ack` is wrapped here, and
 * `renumbered` hears what moved), the outbox is `seeded`. Only wirefall/share carries this: the
 * core's outbox knows no seeding. Returns the messages' promises, in order, and whether the outbox
 * is still seeded.
 */
export function seedOutbox(
  outbox: Outbox,
  acked: number,
  entries: readonly { s: number; ev: string; payload: string; enc?: string }[],
  now: number,
  renumbered?: (moved: Moved[], ack: number) => void,
): { promises: Promise<void>[]; seeded: () => boolean } {
  // The live entries (`load` keeps the array it is given).
  const q = outbox.q;
  const promises = entries.map((x) => {
    const before = q.length;
    const p = outbox.push(x.ev, x.payload, true, undefined, x.enc);
    const e = q[before]; // absent when the outbox was full (then `p` rejected)
    if (e) (e.s = x.s), (e.at = now);
    return p;
  });
  outbox.load(entries.reduce((m, x) => Math.max(m, x.s), acked) + 1, acked, q);
  /** How many entries at the front were restored, while the numbering is unsettled. */
  let restored: number | undefined = q.length;
  const { ack, restart } = outbox;
  // A lost session renumbers from 1 as always: nothing restored remains to be settled.
  outbox.restart = (err) => ((restored = undefined), restart.call(outbox, err));
  /**
   * The first ack is the first resumed welcome's (nothing is written before it). The old writer
   * may have written numbers no one recorded, so the server's ack, not the restored numbers, says
   * where numbering continues: restored entries
   * numbered up to `ack` were received (the server de-duplicates by number and receives a prefix),
   * and every other entry (restored ones above `ack`, including those after a hole, and all pushed
   * since) is numbered `ack + 1` onwards in its order. That is safe because this outbox wrote
   * nothing before this welcome, so the server has none of these numbers from us. False when the
   * ack goes back behind what was already acknowledged (a broken peer).
   */
  outbox.ack = (a: number, at: number): boolean => {
    const n0 = restored;
    if (n0 === undefined) return ack.call(outbox, a, at);
    if (a < outbox.acked) return false;
    restored = undefined;
    const q = outbox.q;
    let n = 0;
    while (n < n0 && q[n]!.s <= a) n++;
    const done = q.splice(0, n);
    if (a > outbox.acked) outbox.ackedAt = at;
    const moved: Moved[] = [];
    let to = a + 1;
    for (const e of q) {
      if (e.s !== to) moved.push({ from: e.s, to }), (e.s = to);
      to++;
    }
    // The bytes are counted again from what is left, so the settled ones are not in them.
    outbox.load(to, a, q);
    for (const e of done) e.ok?.();
    renumbered?.(moved, a);
    return true;
  };
  return { promises, seeded: () => restored !== undefined };
}
