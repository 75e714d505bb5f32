// Close codes as checked literals: importing the CloseCode table would put all of it in the client bundle (-155 B gzip).
import type { CloseCode } from '../protocol/close-codes';
import type { RungName } from '../protocol/api';
import type { WirefallError } from '../protocol/errors';

/**
 * The connection's lifecycle as a pure reducer: `(state, event) → [state, effects]`. The
 * client commits the state, runs the effects in order, and tells its listeners last, so that a
 * listener always sees a finished transition. docs/transports.md ("Connection states") is
 * checked against this table by test/unit/lifecycle.test.ts.
 */
// The phases, numbered: the bundle carries a digit where it carried a word (their names, as
// docs/transports.md gives them: PHASES).
/** A race down the ladder is under way. */
export const RACING = 0;
/** Every rung failed (or the link was lost): the retry timer runs. */
export const BACKOFF = 1;
/** A verified link carries the session. */
export const OPEN = 2;
/** Open, and a race of the rungs above is under way to move the session up. */
export const CLIMBING = 3;
/** For good: `close()`, or a refusal of the server's own. */
export const CLOSED = 4;
export type Phase = typeof RACING | typeof BACKOFF | typeof OPEN | typeof CLIMBING | typeof CLOSED;
/** Each phase's name, by its number (docs/transports.md names them so). */
export const PHASES = ['racing', 'backoff', 'open', 'climbing', 'closed'] as const;

export interface Lifecycle {
  phase: Phase;
  /** The rung of the live link (open, climbing), else null. */
  rung: RungName | null;
  /** There are rungs above the live one to climb to. */
  above: boolean;
  /** A session exists (a welcome was received once): races resume it, and the state says `reconnecting`. */
  resumable: boolean;
  /** `reconnect: false`: a failure ends the client instead of backing off. */
  reconnect: boolean;
  /**
   * Backoffs since the last stable link (or network change): the backoff grows with it. Not since
   * the last verified one: a server that accepts and then drops every link (a crash loop, a proxy
   * cutting each connection at once) would otherwise get a reconnect from every client about
   * every 125 ms, for ever (partysocket's `minUptime` is the same idea).
   */
  failures: number;
}

// The events, numbered as the phases are (their names, as docs/transports.md gives them: EVENTS).
/** A race (or a climb) verified a rung. */
export const WON = 0;
/** A race ended without a winner; `fatal`: the server itself refused (auth, origin, version). */
export const FAILED = 1;
/** The live link stalled, closed, said bye or broke the protocol; `stable`: it had lasted (client.ts). */
export const LOST = 2;
/** The retry timer fired. */
export const RETRY = 3;
/** The climb timer fired. */
export const CLIMB_DUE = 4;
/** A climb found no better rung. */
export const STAY = 5;
/** The platform's wake reasons (`onWake`). */
export const ONLINE = 6;
export const VISIBLE = 7;
/** `close()`. */
export const CLOSE = 8;
/** Each event's name, by its number (docs/transports.md names them so). */
export const EVENTS = ['won', 'failed', 'lost', 'retry', 'climb', 'stay', 'online', 'visible', 'close'] as const;

export type LifecycleEvent =
  | { type: typeof WON; rung: RungName; above: boolean }
  | { type: typeof FAILED; error: WirefallError; fatal: boolean }
  | { type: typeof LOST; error: WirefallError; stable?: boolean }
  | { type: typeof RETRY | typeof CLIMB_DUE | typeof STAY | typeof ONLINE | typeof VISIBLE | typeof CLOSE };

// The effects, numbered as the phases are (their names, as docs/transports.md gives them: EFFECTS).
/** Start a race down the ladder (a resume hello once a session exists). */
export const RACE = 0;
/** Adopt the won attempt: abandon the others, claim the session, start the live link. */
export const ADOPT = 1;
/** Arm the climb timer, when the rungs above may be tried again. */
export const PLAN_CLIMB = 2;
/** Start a race of the rungs above the live one. */
export const CLIMB = 3;
/** Drop the live link at once (and a climb under way). */
export const DROP = 4;
/** Emit the event's error. */
export const TELL_ERROR = 5;
/** Arm the retry timer: a jittered backoff. */
export const WAIT = 6;
/** Ping now, rather than at the next heartbeat. */
export const PING = 7;
/** Stop everything and reject the outbox with `WF_CLOSED`. */
export const END = 8;
/** Stop everything and reject the outbox with the event's error (the server refused). */
export const REFUSE = 9;
export type Effect = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9;
/** Each effect's name, by its number (docs/transports.md names them so). */
export const EFFECTS = ['race', 'adopt', 'plan-climb', 'climb', 'drop', 'error', 'wait', 'ping', 'end', 'refuse'] as const;

/** The next state, and the effects to run, in order (a pair: the bundle pays for property names). */
export type Transition = [state: Lifecycle, effects: Effect[]];

const live = (p: Phase): boolean => p === OPEN || p === CLIMBING;
/** Close codes of the server's own refusal of a live session (`authenticate` or origin). */
const refusal = (e: WirefallError): boolean => e.closeCode === (4401 satisfies typeof CloseCode.Unauthorized) || e.closeCode === (4403 satisfies typeof CloseCode.Forbidden);

export function reduce(s: Lifecycle, e: LifecycleEvent): Transition {
  const { type } = e;
  const { phase } = s;
  if (phase === CLOSED) return [s, []];
  // A link that lasted, or a new network, starts the backoff over (even where nothing else changes).
  if (type === ONLINE || (type === LOST && e.stable)) s = { ...s, failures: 0 };
  const same: Transition = [s, []];
  const to = (next: Phase, effects: Effect[], patch: Partial<Lifecycle> = {}): Transition => [
    { ...s, phase: next, rung: live(next) ? s.rung : null, failures: s.failures + +effects.includes(WAIT), ...patch },
    effects,
  ];
  const open = live(phase);
  // One shape for a race that failed and a link that was lost (the link is dropped first): the
  // server's own refusal ends the client, as does a failure with `reconnect: false`; else back off.
  if ((type === FAILED && phase === RACING) || (type === LOST && open)) {
    const fx: Effect[] = open ? [DROP, TELL_ERROR] : [TELL_ERROR];
    return (type === FAILED ? e.fatal : refusal(e.error)) ? to(CLOSED, [...fx, REFUSE])
      : s.reconnect ? to(BACKOFF, [...fx, WAIT])
      : to(CLOSED, [...fx, END]);
  }
  if (type === CLOSE) return to(CLOSED, [END]);
  // A race or a climb verified a rung.
  if (type === WON && (phase === RACING || phase === CLIMBING)) return to(OPEN, e.above ? [ADOPT, PLAN_CLIMB] : [ADOPT], { rung: e.rung, above: e.above, resumable: true });
  if (phase === BACKOFF) return type === RETRY || type === ONLINE ? to(RACING, [RACE]) : same;
  if (!open) return same;
  // open or climbing
  if (type === VISIBLE) return to(phase, [PING]);
  if (phase === CLIMBING) return type === STAY ? to(OPEN, [PLAN_CLIMB]) : type === ONLINE ? to(phase, [PING]) : same;
  if (type === CLIMB_DUE && s.above) return to(CLIMBING, [CLIMB]);
  return type !== ONLINE ? same : s.above ? to(CLIMBING, [CLIMB, PING]) : to(OPEN, [PING]);
}

/** The public `client.state` of a lifecycle state. */
export function publicState(s: Lifecycle): 'connecting' | 'open' | 'reconnecting' | 'closed' {
  return live(s.phase) ? 'open' : s.phase === CLOSED ? 'closed' : s.resumable ? 'reconnecting' : 'connecting';
}
