import type { FanOutEntry } from './types';
import { wellFormedMessage, wellFormedRoom, type Readable } from './well-formed';

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

/**
 * An entry's text back (`encodeEntry`), with its log id; undefined when it is not wirefall's, or
 * not well formed: a message its recipients' decoders would refuse must never reach them
 * (well-formed.ts), whoever wrote it into Redis.
 */
export function decodeEntry(text: string, id: string, readable?: Readable): FanOutEntry | undefined {
  const nl = text.indexOf('\n');
  if (nl < 0) return undefined;
  let h: unknown;
  try {
    h = JSON.parse(text.slice(0, nl));
  } catch {
    return undefined;
  }
  if (!Array.isArray(h) || typeof h[0] !== 'string' || !Number.isSafeInteger(h[3]) || (h[2] != null && typeof h[2] !== 'string')) return undefined;
  if ((h[5] != null && !wellFormedRoom(h[5])) || !wellFormedMessage(h[1], text.slice(nl + 1), h[4] ?? undefined, readable)) return undefined;
  const entry: FanOutEntry = { type: h[1] as string, payload: text.slice(nl + 1), origin: { node: h[0], seq: h[3] as number }, id };
  if (typeof h[2] === 'string') entry.except = h[2];
  if (typeof h[4] === 'string') entry.e = h[4];
  if (typeof h[5] === 'string') entry.room = h[5];
  return entry;
}

/** A fan-out log id (`ms-n`, as XADD makes them). */
export const LOG_ID = /^\d{1,20}-\d{1,20}$/;

/** Log ids (`ms-n`) in order; '' is before every id. */
export function idAfter(a: string, b: string): boolean {
  if (!b) return !!a;
  if (!a) return false;
  const [am, an] = a.split('-'), [bm, bn] = b.split('-');
  const x = Number(am), y = Number(bm);
  return x !== y ? x > y : Number(an) > Number(bn);
}
