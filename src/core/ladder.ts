import type { AttemptRecord } from './attempt';

/**
 * The ladder policy, as pure functions of what the client has seen: where a race starts, what a
 * won race teaches the rung memory, when repeated stalls demote a rung, and when to climb back
 * up. Rungs are ladder indices (0: the best). The client applies the memory instructions.
 */
export interface Ladder {
  /** Index of the highest rung a race may start from (rungs above stalled repeatedly). */
  floor: number;
  /** The best index verified during this client's life. */
  best: number;
  /** Wall-clock times of recent stalls of the rung in use. */
  stalls: number[];
  /** Consecutive climbs that found nothing better (the climb delay doubles with each). */
  climbs: number;
  /** When the next climb is due (wall clock), or 0: kept across reconnects. */
  climbDue: number;
  /** The index of the last rung the client was open on. */
  last: number;
  /**
   * Per-rung backoff: the rungs above this index were found broken (refused, silent), so
   * reconnects start here until the next climb is due; the climb tries them again, on its
   * doubling schedule. 0: reconnects start at the top.
   */
  skip: number;
  /**
   * The first climb after a fall is due this many ms after it instead of on the schedule (0):
   * set when a rung above was abandoned with no evidence against it (merely slow, not broken),
   * so a clean network that lost the race by a hair moves back up at once.
   */
  soon: number;
}

/** What the rung memory should do: remember this index, forget, or nothing. */
export type MemoryAction = { remember: number } | 'forget' | undefined;

export const freshLadder = (): Ladder => ({ floor: 0, best: Infinity, stalls: [], climbs: 0, climbDue: 0, last: 0, skip: 0, soon: 0 });

/**
 * Where a race starts: below rungs that stalled repeatedly, and on the first connection (a page
 * load) at the remembered rung. Reconnects (pass no `remembered`) start below rungs found broken
 * until the next climb is due, and at the top otherwise, so that a rung that was only unlucky
 * (cut while connecting, which browsers report like a refusal) gets its chance back. A rung
 * refused seconds ago is thus not asked again on every reconnect.
 */
export function startIndex(l: Ladder, remembered: number | undefined, rungs: number, now = 0): number {
  const from = remembered !== undefined && remembered >= 0 ? remembered : now < l.climbDue ? l.skip : 0;
  return Math.min(Math.max(from, l.floor), rungs - 1);
}

/** Even the remembered (or demoted-to) rung failed: the network changed; start from the top. */
export function raceFailed(l: Ladder, start: number): [Ladder, MemoryAction] {
  return start > 0 ? [{ ...l, floor: 0, skip: 0 }, 'forget'] : [l, undefined];
}

/**
 * What a won race at `index` teaches. A lower rung is remembered only on evidence that the rungs
 * above are broken (refused, or still stuck long after the winner verified), not when they were
 * merely slow or cut once, and not when a better rung worked earlier in this client's life: a
 * server restart refuses every rung for a moment, and must not push the fleet down. Falling
 * further down restarts the climb schedule.
 */
export function won(l: Ladder, index: number, records: readonly AttemptRecord[], indexOf: (r: AttemptRecord) => number): [Ladder, MemoryAction] {
  const winner = records.find((a) => a.outcome === 'verified')?.duration ?? 0;
  const above = records.filter((a) => indexOf(a) < index);
  const broken =
    above.length > 0 &&
    above.every((a) =>
      a.outcome === 'failed'
        ? a.reason !== 'WF_DISCONNECTED' // a cut is bad luck, not a verdict on the rung
        : // Opened and silent while another rung did a whole round trip: the greeting comes with
          // the server's first bytes, so frames are being dropped. Or still stuck long after the
          // winner verified: it hangs.
          a.reason === 'WF_NO_DATA' || a.duration > 4 * winner + 100,
    );
  // The top rung is remembered too: a warm start then skips the cold start's early HTTP rung.
  const memory: MemoryAction = !index ? { remember: 0 } : broken && l.best >= index ? { remember: index } : undefined;
  const fell = index > l.last;
  return [
    {
      ...l,
      best: Math.min(l.best, index),
      floor: Math.min(l.floor, index),
      last: index,
      climbs: fell ? 0 : l.climbs,
      climbDue: fell ? 0 : l.climbDue,
      skip: broken || index < l.skip ? index : l.skip,
      // Retried when it would have counted as hanging: as long after the win as the memory's test.
      soon: fell && !broken && above.some((a) => a.outcome === 'abandoned') ? 4 * winner + 100 : 0,
    },
    memory,
  ];
}

/**
 * A rung that verifies and then stalls 3 times within a minute is demoted: the next races start
 * below it (and the memory says so), and the climb tries it again later.
 */
export function stalled(l: Ladder, index: number, now: number, rungs: number): [Ladder, MemoryAction] {
  const stalls = [...l.stalls.filter((t) => now - t < 60_000), now];
  const below = index + 1;
  if (stalls.length < 3 || below >= rungs) return [{ ...l, stalls }, undefined];
  return [{ ...l, stalls: [], floor: below }, { remember: below }];
}

/** A new network: what we learned about the old one no longer holds. */
export function newNetwork(l: Ladder): [Ladder, MemoryAction] {
  return [{ ...l, floor: 0, climbs: 0, climbDue: 0, skip: 0 }, 'forget'];
}

/**
 * When the next climb is due: `first` ms after the fall, doubling after each climb that found
 * nothing, up to `max`. The due time is kept across reconnects, or a link cut every few seconds
 * would never climb.
 */
export function climbAt(l: Ladder, now: number, schedule: { first: number; max: number }): Ladder {
  return l.climbDue ? l : { ...l, climbDue: now + (l.soon || Math.min(schedule.max, schedule.first * 2 ** Math.min(l.climbs, 20))) };
}

/** A climb started (`found` undefined), found nothing (false) or moved the session up (true). */
export function climbed(l: Ladder, found?: boolean): Ladder {
  return { ...l, climbDue: 0, soon: 0, climbs: found === undefined ? l.climbs : found ? 0 : l.climbs + 1 };
}
