/**
 * Whether a BroadcastChannel message is a tab message this version understands. Any script of
 * the origin can post on the channel (a tab of another app version, an extension, a bug), and one
 * malformed message must not throw in the middle of a hand-over or leave a wrong type in a tab's
 * state (a string `s` compares as text for ever after): what does not fit is ignored and reported.
 */
import type { ClientLogger } from '../core/logger';
import type { TabMessage } from './tab-protocol';

type Check = (v: unknown) => boolean;
type Rec = Record<string, unknown>;

const str: Check = (v) => typeof v === 'string';
const bool: Check = (v) => typeof v === 'boolean';
/** Sequence numbers, positions and call ids: whole numbers from 0. */
const num: Check = (v) => Number.isSafeInteger(v) && (v as number) >= 0;
const opt =
  (c: Check): Check =>
  (v) => v === undefined || c(v);
const obj =
  (fields: Record<string, Check>): Check =>
  (v) => typeof v === 'object' && v !== null && Object.keys(fields).every((k) => fields[k]!((v as Rec)[k]));
const list =
  (c: Check): Check =>
  (v) => Array.isArray(v) && v.every(c);
const any: Check = () => true;
/** An object whose every value passes `c` (keys are any strings). */
const record =
  (c: Check): Check =>
  (v) => typeof v === 'object' && v !== null && Object.values(v).every(c);

const entry = obj({ s: num, ev: str, payload: str, enc: opt(str), n: opt(num), from: str, id: num });
const session = obj({ sid: str, key: str });
const mirror = obj({ session: opt(session), acked: num, next: num, entries: list(entry), calls: opt(record(num)) });
const states = ['connecting', 'open', 'reconnecting', 'closed'];
const snap = obj({ state: (v) => states.includes(v as string), rung: (v) => v === null || str(v), attempts: list(any), rtt: opt((v) => typeof v === 'number'), high: bool });
const error = obj({ code: str, message: str });

const shapes: Record<TabMessage['t'], Check> = {
  join: obj({ tab: str }),
  leave: obj({ tab: str, away: opt(bool) }),
  snap: obj({ to: str, leader: str, snap, received: num, mirror }),
  call: obj({ from: str, id: num, method: str, args: list(any) }),
  assigned: obj({ e: entry }),
  confirm: obj({ from: str, id: num }),
  done: (v) => obj({ to: str, id: num, s: opt(num), ok: bool })(v) && ((v as Rec).ok === true || error((v as Rec).error)),
  msg: obj({ s: num, ev: str }),
  event: (v) => {
    if (!obj({ name: str, args: list(any) })(v)) return false;
    const { name, args } = v as { name: string; args: unknown[] };
    return name === 'error' ? error(args[0]) : name === 'sessionlost' ? Array.isArray(args[0]) : name === 'backpressure' && bool(args[0]);
  },
  state: obj({ snap }),
  attempt: obj({ a: obj({ rung: str, outcome: str }), attempts: list(any) }),
  session: obj({ sid: str, key: str, resumed: opt(bool) }),
  renumbered: obj({ moved: list(obj({ from: num, to: num })), ack: num }),
  renumber: any,
  sync: obj({ leader: str }),
  synced: obj({ from: str, to: str, received: num, mirror }),
  leader: obj({ tab: str, seeded: list(obj({ from: str, id: num })), fresh: opt(bool) }),
};

export function isTabMessage(m: unknown): m is TabMessage {
  const t = (m as Rec | null)?.t;
  return typeof m === 'object' && typeof t === 'string' && Object.hasOwn(shapes, t) && shapes[t as TabMessage['t']](m);
}

/**
 * A channel's `onmessage`: hands `on` the tab messages of this version; anything else is ignored
 * and reported (to the client's `logger` every time, else once to the console: a page may post
 * many), and so is a message whose handling threw, so that no post can break a tab.
 */
export function receiver(logger: ClientLogger | undefined, on: (m: TabMessage) => void): (ev: { data: unknown }) => void {
  let told = false;
  const warn = (text: string) => {
    if (logger) logger.warn?.(`[wirefall] ${text}`);
    else if (!told) (told = true), console.warn(`[wirefall] ${text}`);
  };
  return ({ data: m }) => {
    if (!isTabMessage(m)) return warn(`ignored a message on the tab channel that is not a wirefall ${String((m as { t?: unknown } | null)?.t ?? typeof m)} message of this version`);
    try {
      on(m);
    } catch (e) {
      warn(`a tab message (${m.t}) failed: ${String(e)}`);
    }
  };
}
