/**
 * Exponential backoff with full jitter (AWS architecture blog, "Exponential Backoff And Jitter"):
 * a uniformly random delay up to the capped exponential. Full jitter spreads a fleet's reconnects
 * after a server restart instead of synchronising them into waves.
 */
export interface BackoffOptions {
  /** First ceiling, ms. */
  base: number;
  /** Largest ceiling, ms. */
  max: number;
}

export function backoffDelay(failures: number, opts: BackoffOptions, random: () => number): number {
  const ceiling = Math.min(opts.max, opts.base * 2 ** Math.min(failures, 30));
  return Math.floor(random() * ceiling);
}
