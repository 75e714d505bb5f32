
/** A rate: `perSecond` on average, `burst` at once. */
export interface Rate {
  perSecond: number;
  burst: number;
}

/**
 * A token bucket: `take()` is true while the rate allows. Time is read only when asked, so an
 * idle bucket costs nothing (no timer per session or address).
 */
export class TokenBucket {
  #tokens: number;
  #at = Date.now();
  constructor(readonly rate: Rate) {
    this.#tokens = rate.burst;
  }

  take(n = 1): boolean {
    const now = Date.now();
    this.#tokens = Math.min(this.rate.burst, this.#tokens + ((now - this.#at) / 1000) * this.rate.perSecond);
    this.#at = now;
    if (this.#tokens < n) return false;
    this.#tokens -= n;
    return true;
  }
}

/** Most addresses remembered at once; the least recently seen are forgotten first. */
const MAX_ADDRESSES = 10_000;

/** One bucket per remote address, for opens (upgrades, SSE and long-poll hellos). */
export class AddressLimiter {
  #buckets = new Map<string, TokenBucket>();
  constructor(readonly rate: Rate | undefined) {}

  /** True when `address` may open another connection now. */
  allow(address: string | undefined): boolean {
    if (!this.rate) return true;
    const key = address ?? '?';
    let b = this.#buckets.get(key);
    if (b) this.#buckets.delete(key); // re-inserted below: the map's order is recency
    else b = new TokenBucket(this.rate);
    this.#buckets.set(key, b);
    if (this.#buckets.size > MAX_ADDRESSES) this.#buckets.delete(this.#buckets.keys().next().value!);
    return b.take();
  }
}

/** Most distinct events a throttled logger counts at once. */
const MAX_EVENTS = 1000;

/**
 * Wraps one log method so that a repeated event is said once per `intervalMs`, then how many
 * times it recurred (`repeated` in the context of the next line). A client that floods us with
 * messages nobody subscribed to used to write one line each: 4.9 million lines in 10 s (issue 16,
 * item 10). Events are told apart by their text with numbers masked, so "message 5 arrived after
 * 3" and "message 9 arrived after 7" count as one.
 */
export function throttled(intervalMs: number) {
  return (say: (message: string, context?: Record<string, unknown>) => void) => {
    if (intervalMs <= 0) return say;
    const seen = new Map<string, { until: number; repeated: number }>();
    return (message: string, context?: Record<string, unknown>) => {
      const key = message.slice(0, 200).replace(/\d+/g, '#');
      const now = Date.now();
      const e = seen.get(key);
      if (e && now < e.until) return void e.repeated++;
      seen.delete(key);
      seen.set(key, { until: now + intervalMs, repeated: 0 });
      if (seen.size > MAX_EVENTS) seen.delete(seen.keys().next().value!);
      say(message, e?.repeated ? { ...context, repeated: e.repeated } : context);
    };
  };
}
