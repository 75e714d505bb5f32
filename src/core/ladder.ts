import type { AttemptRecord } from './attempt';
import type { RungMemory } from './memory';
import type { Rung } from './rungs';

/**
 * The ladder policy, one per client: where a race starts, what a won race teaches the rung
 * memory, when repeated stalls demote a rung, and when to climb back up. Rungs are ladder indices
 * (0: the best). Its state is its own (closure variables, not an object: the client bundle pays
 * for every property name at every use); it tells the rung memory (./memory) itself.
 */
export type Ladder = ReturnType<typeof ladder>;

export function ladder(rungs: readonly Rung[], memory: RungMemory | undefined, now: () => number) {
  /** Index of the highest rung a race may start from (rungs above stalled repeatedly). */
  let floor = 0;
  /** The best index verified during this client's life. */
  let best = Infinity;
  /** Wall-clock times of recent stalls of the rung in use. */
  let stalls: number[] = [];
  /** Consecutive climbs that found nothing better (the climb delay doubles with each). */
  let climbs = 0;
  /** When the next climb is due (wall clock), or 0: kept across reconnects. */
  let climbDue = 0;
  /** The index of the last rung the client was open on. */
  let last = 0;
  /**
   * Per-rung backoff: the rungs above this index were found broken (refused, silent), so
   * reconnects start here until the next climb is due; the climb tries them again, on its
   * doubling schedule. 0: reconnects start at the top.
   */
  let skip = 0;
  /**
   * The first climb after a fall is due this many ms after it instead of on the schedule (0):
   * set when a rung above was abandoned with no evidence against it (merely slow, not broken),
   * so a clean network that lost the race by a hair moves back up at once.
   */
  let soon = 0;
  const remember = (index: number) => memory?.remember(rungs[index]!.name, now());
  const forget = () => {
    floor = skip = 0;
    memory?.unlearn();
  };
  const index = (rung?: string) => rungs.findIndex((r) => r.name === rung);
  return {
    /** The ladder index of rung `rung` (-1: not on it); the client's too. */
    rankOf: index,
    /**
     * Where a race starts: below rungs that stalled repeatedly, and on the first connection (a
     * page load, `fresh`) at the remembered rung. Reconnects start below rungs found broken until
     * the next climb is due, and at the top otherwise, so that a rung that was only unlucky (cut
     * while connecting, which browsers report like a refusal) gets its chance back. A rung refused
     * seconds ago is thus not asked again on every reconnect. Says too whether the start is cold
     * (a first connection with nothing remembered: the first HTTP rung then starts at once too).
     */
    startOf(fresh: boolean): [start: number, cold: boolean] {
      const t = now();
      const name = fresh ? memory?.recall(t) : undefined;
      const recalled = index(name);
      return [Math.max(recalled >= 0 ? recalled : t < climbDue ? skip : 0, floor), fresh && !name];
    },
    /** A race from `start` failed: even the remembered (or demoted-to) rung failed, the network changed; start from the top. */
    raceFailed: (start: number) => start > 0 && forget(),
    /**
     * What a won race at `index` teaches. A lower rung is remembered only on evidence that the
     * rungs above are broken (refused, or still stuck long after the winner verified), not when
     * they were merely slow or cut once, and not when a better rung worked earlier in this
     * client's life: a server restart refuses every rung for a moment, and must not push the fleet
     * down. Falling further down restarts the climb schedule.
     */
    won(at: number, records: readonly AttemptRecord[]): void {
      /** Still stuck this long after the race began: it hangs (4× the winner's round trip, and 100 ms). */
      const hangs = 4 * (records.find((a) => a.outcome === 'verified')?.duration ?? 0) + 100;
      const above = records.filter((a) => index(a.rung) < at);
      const broken =
        above.length > 0 &&
        above.every((a) =>
          a.outcome === 'failed'
            ? a.reason !== 'WF_DISCONNECTED' // a cut is bad luck, not a verdict on the rung
            : // Opened and silent while another rung did a whole round trip: the greeting comes with
              // the server's first bytes, so frames are being dropped. Or still stuck long after the
              // winner verified: it hangs.
              a.reason === 'WF_NO_DATA' || a.duration > hangs,
        );
      // The top rung is remembered too: a warm start then skips the cold start's early HTTP rung.
      if (!at || (broken && best >= at)) remember(at);
      const fell = at > last;
      if (fell) climbs = climbDue = 0;
      // Retried when it would have counted as hanging: as long after the win as the memory's test.
      soon = fell && !broken && above.some((a) => a.outcome === 'abandoned') ? hangs : 0;
      if (broken || at < skip) skip = at;
      best = Math.min(best, at);
      floor = Math.min(floor, at);
      last = at;
    },
    /**
     * A rung that verifies and then stalls 3 times within a minute is demoted: the next races
     * start below it (and the memory says so), and the climb tries it again later.
     */
    stalled(at: number): void {
      const t = now();
      stalls = [...stalls.filter((s) => t - s < 60_000), t];
      if (stalls.length > 2 && at + 1 < rungs.length) {
        stalls = [];
        remember((floor = at + 1));
      }
    },
    /** A new network: what we learned about the old one no longer holds. */
    newNetwork(): void {
      climbs = climbDue = 0;
      forget();
    },
    /**
     * In how many ms the next climb is due: `first` ms after the fall, doubling after each climb
     * that found nothing, up to `max`. The due time is kept across reconnects, or a link cut every
     * few seconds would never climb.
     */
    climbIn(schedule: { first: number; max: number }): number {
      const t = now();
      return (climbDue ||= t + (soon || Math.min(schedule.max, schedule.first * 2 ** Math.min(climbs, 20)))) - t;
    },
    /** A climb started (`found` undefined), found nothing (false) or moved the session up (true). */
    climbed(found?: boolean): void {
      climbDue = soon = 0;
      if (found !== undefined) climbs = found ? 0 : climbs + 1;
    },
  };
}
