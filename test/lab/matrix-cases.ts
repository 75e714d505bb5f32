import type { ErrorCode, RungName } from '../../src/index';
import type { Scenario } from '../../lab';

/**
 * The scenario matrix of the hostile-network lab, shared by the Node and the Chromium suites:
 * what each middlebox does, where wirefall must end up, and what it must say about the rung it
 * left. `nodeReason`/`browserReason` differ where browsers hide what Node can see.
 */
export interface MatrixCase {
  name: string;
  scenario: Scenario;
  /** Rungs the client may first open on. */
  endsOn: RungName[];
  /**
   * Where a network that works but is slow must settle. On a busy machine the best rung may miss
   * the stagger, so the race legitimately opens a lower one first; the climb must then bring the
   * client up within SETTLE_MS. That is the contract; how fast the race goes is the benchmarks'.
   */
  settlesOn?: RungName;
  /** The rung the client had to leave, and the reason its attempt must record in Node and in a browser. */
  left?: { rung: RungName; node: ErrorCode; browser: ErrorCode; status?: number };
  /** Connected within this many ms of connect(). */
  budgetMs: number;
  /** Transports to use (default ws, sse, longpoll). */
  transports?: RungName[];
  /** The lab keeps cutting: expect reconnects while messages flow. */
  cuts?: boolean;
  /** Server heartbeat for the case (default 5000 ms). */
  heartbeatMs?: number;
  /** Stay idle this long before exchanging messages (to meet an idle cutter). */
  idleFirstMs?: number;
}

/** The stages of an attempt, in order, as the reasons it is recorded with when it stalls there. */
const STAGES: string[] = ['WF_OPEN_TIMEOUT', 'WF_NO_DATA', 'WF_NO_WELCOME'];

/**
 * Whether the attempts on the broken rung say what broke it: one names `want`; or, where `want` is
 * a stage the path stalls at, one was overtaken by the race (abandoned) at that stage or before.
 * An overtaken attempt can only say how far it got, and in a browser, or on a loaded machine,
 * the HTTP rung may win before the WebSocket's `open` or greeting arrives.
 */
export function namesReason(attempts: readonly { outcome: string; reason?: string }[], want: string): boolean {
  if (attempts.some((a) => a.reason === want)) return true;
  const stage = STAGES.indexOf(want);
  return stage >= 0 && attempts.some((a) => a.outcome === 'abandoned' && a.reason !== undefined && STAGES.includes(a.reason) && STAGES.indexOf(a.reason) <= stage);
}

/** Generous: the first climb is due 3 s after a fallback, and a busy machine may need a retry. */
export const SETTLE_MS = 15_000;

/**
 * Connected within this: below the 5 s open timeout, so a case that waited for a broken rung to
 * time out instead of racing the next one fails, yet generous for a loaded machine (how fast
 * the fallback is, is the benchmarks' business: docs/benchmarks.md).
 */
const BUDGET_MS = 4000;

/**
 * WebSocket broken: the client falls to SSE, the best rung left. On a loaded machine SSE may miss
 * the stagger so that long-polling verifies first; the climb must then bring it to SSE.
 */
const FELL = { endsOn: ['sse', 'longpoll'] as RungName[], settlesOn: 'sse' as const };

/** Every rung: a link that cuts at random may let any of them verify first. */
const ANY: RungName[] = ['ws', 'sse', 'longpoll'];

export const matrix: MatrixCase[] = [
  { name: 'WebSocket upgrade refused with 403 (squid port policy)', scenario: { kind: 'refuse-upgrade', how: '403' }, ...FELL, left: { rung: 'ws', node: 'WF_REFUSED', browser: 'WF_NETWORK', status: 403 }, budgetMs: BUDGET_MS },
  { name: 'WebSocket upgrade reset', scenario: { kind: 'refuse-upgrade', how: 'reset' }, ...FELL, left: { rung: 'ws', node: 'WF_NETWORK', browser: 'WF_NETWORK' }, budgetMs: BUDGET_MS },
  { name: 'WebSocket upgrade hangs', scenario: { kind: 'refuse-upgrade', how: 'hang' }, ...FELL, left: { rung: 'ws', node: 'WF_OPEN_TIMEOUT', browser: 'WF_OPEN_TIMEOUT' }, budgetMs: BUDGET_MS },
  // The server gets the handshake as a plain GET and says so (426 upgrade_stripped): not a
  // refusal of its own, so the ladder goes on. Browsers hide the status.
  { name: 'WebSocket upgrade forwarded without its Upgrade header (proxy that does not know WebSocket)', scenario: { kind: 'strip-upgrade' }, ...FELL, left: { rung: 'ws', node: 'WF_UPGRADE_STRIPPED', browser: 'WF_NETWORK', status: 426 }, budgetMs: BUDGET_MS },
  { name: '101 with Connection rewritten (i-FILTER)', scenario: { kind: 'rewrite-connection' }, ...FELL, left: { rung: 'ws', node: 'WF_HANDSHAKE', browser: 'WF_NETWORK' }, budgetMs: BUDGET_MS },
  { name: 'frames dropped after the upgrade (antivirus)', scenario: { kind: 'drop-frames' }, ...FELL, left: { rung: 'ws', node: 'WF_NO_DATA', browser: 'WF_NO_DATA' }, budgetMs: BUDGET_MS },
  { name: 'uplink frames swallowed (web filter, tolerant client)', scenario: { kind: 'swallow-uplink' }, ...FELL, left: { rung: 'ws', node: 'WF_NO_WELCOME', browser: 'WF_NO_WELCOME' }, budgetMs: BUDGET_MS },
  { name: 'event streams buffered to 64 KiB (buffering reverse proxy)', scenario: { kind: 'buffer-sse' }, endsOn: ['longpoll'], transports: ['sse', 'longpoll'], left: { rung: 'sse', node: 'WF_OPEN_TIMEOUT', browser: 'WF_OPEN_TIMEOUT' }, budgetMs: BUDGET_MS },
  // Heartbeats every 5 s do not keep a 1.5 s idle cutter away: the client must ride the cuts.
  { name: 'connections idle for 1.5 s are cut', scenario: { kind: 'idle-cut', ms: 1500 }, endsOn: ANY, settlesOn: 'ws', budgetMs: BUDGET_MS, cuts: true, idleFirstMs: 2000 },
  // A WebSocket attempt cut before it verifies counts as failed, so the race may verify on a
  // lower rung first (more often on a busy machine); the climb brings it back to WebSocket.
  { name: 'connections cut at seeded random times (flaky mobile)', scenario: { kind: 'random-cuts', seed: 7, meanMs: 400 }, endsOn: ANY, budgetMs: BUDGET_MS, cuts: true, heartbeatMs: 1000 },
  { name: '40 ms added to every chunk', scenario: { kind: 'latency', ms: 40 }, endsOn: ANY, settlesOn: 'ws', budgetMs: BUDGET_MS },
];
