import type { FanoutPosition } from '../handover';
import type { FanOutEntry } from './types';

/**
 * Adds a fan-out entry to the log `{prefix}:log` (a stream, trimmed to about `MAXLEN` entries) and
 * publishes it on its channel with the id the log gave it, in one step: whoever hears an entry
 * live can find every earlier one in the log. ARGV: max length, channel, entry text.
 */
export const FANOUT = `
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'm', ARGV[3])
redis.call('SPUBLISH', ARGV[2], id .. ' ' .. ARGV[3])
return id`;

/** An entry as it travels: `{header JSON}\n{payload}`; the header is [node, type, except, seq, e, room]. */
export function encodeEntry(node: string, seq: number, entry: FanOutEntry): string {
  return `${JSON.stringify([node, entry.type, entry.except ?? null, seq, entry.e ?? null, entry.room ?? null])}\n${entry.payload}`;
}

/** An entry's text back (`encodeEntry`), with its log id; undefined when it is not wirefall's. */
export function decodeEntry(text: string, id: string): FanOutEntry | undefined {
  const nl = text.indexOf('\n');
  let h: unknown;
  try {
    h = JSON.parse(text.slice(0, nl));
  } catch {
    return undefined;
  }
  if (nl < 0 || !Array.isArray(h) || typeof h[0] !== 'string' || typeof h[1] !== 'string' || typeof h[3] !== 'number') return undefined;
  const entry: FanOutEntry = { type: h[1], payload: text.slice(nl + 1), origin: { node: h[0], seq: h[3] }, id };
  if (typeof h[2] === 'string') entry.except = h[2];
  if (typeof h[4] === 'string') entry.e = h[4];
  if (typeof h[5] === 'string') entry.room = h[5];
  return entry;
}

/** Log ids (`ms-n`) in order; '' is before every id. */
export function idAfter(a: string, b: string): boolean {
  if (!b) return !!a;
  if (!a) return false;
  const [am, an] = a.split('-'), [bm, bn] = b.split('-');
  const x = Number(am), y = Number(bm);
  return x !== y ? x > y : Number(an) > Number(bn);
}

/**
 * How one session that arrived here from another node follows the fan-out (docs/scaling.md §5).
 * While it catches up from the log (`catching`), every entry for it is held in `held`, in order;
 * afterwards entries it had already got are skipped: those up to log id `floor` (the catch-up
 * delivered them), and those its old node published up to `from.seq` (delivered there before the
 * log had them).
 */
export class Follow {
  catching = true;
  held: FanOutEntry[] = [];
  /** Entries that did not fit in `held` (bounded like a replay): reported, not silently dropped. */
  overflow = 0;
  floor: string;
  readonly from: FanoutPosition;
  /**
   * This node's own entries that reached the session here (held): they reach the log only after
   * this node delivered them, so the catch-up must not deliver them again.
   */
  readonly ownHeld = new Set<number>();
  readonly self: string;

  constructor(from: FanoutPosition, self: string) {
    this.from = from;
    this.floor = from.id;
    this.self = self;
  }

  /** Holds `e` while catching up (bounded like a replay); false when there is no room left. */
  hold(e: FanOutEntry): boolean {
    if (this.held.length >= 10_000) return false;
    this.held.push(e);
    if (e.origin?.node === this.self) this.ownHeld.add(e.origin.seq);
    return true;
  }

  /** Whether this session got `e` already (or, from the log, gets it otherwise). */
  had(e: FanOutEntry, fromLog: boolean): boolean {
    const o = e.origin;
    if (o && o.node === this.from.node && o.seq <= this.from.seq) return true;
    // From the log, this node's own entries that the session got here (held) already.
    if (fromLog && o && o.node === this.self && this.ownHeld.has(o.seq)) return true;
    return e.id !== undefined && !idAfter(e.id, this.floor);
  }

  /** Done following: every entry this session could have had twice is behind this node's live position. */
  done(live: string, seen: Map<string, number>): boolean {
    return !this.catching && !idAfter(this.floor, live) && (seen.get(this.from.node) ?? 0) >= this.from.seq;
  }
}
