import { LADDER, type RungName } from '../protocol/api';
import type { ErrorCode } from '../protocol/errors';
import type { ReportEntry } from '../protocol/frames';
import { encodeFrame } from './codec';
import type { ResolvedServerOptions } from './options';

/**
 * The client's `report` frame (docs/protocol.md §4.1): its connection attempts since the last
 * report, once per connection. Read here, on the server only, so that the client's codec stays
 * small: every entry is checked, and a report that breaks a rule is refused whole (a non-fatal
 * `protocol_error`), never half-counted, never a crash, and never the end of a link. A report is
 * diagnostics: a newer client that knows a reason code this server does not must keep its link.
 */

/** Entries one report may carry (announced as `rep` in the welcome). */
export const REPORT_MAX = 16;

/** One attempt, as the server understood it. */
export interface AttemptReport {
  rung: RungName;
  outcome: 'verified' | 'failed' | 'abandoned';
  /** How long the attempt took until its outcome, ms (rounded, at most an hour). */
  ms: number;
  /** Why it did not verify; absent for a verified attempt. */
  reason?: ErrorCode;
}

const OUTCOMES: readonly AttemptReport['outcome'][] = ['verified', 'failed', 'abandoned'];

/** Every client error code an attempt can end with; the check below fails to compile when the union grows. */
export const ATTEMPT_REASONS = [
  'WF_REFUSED', 'WF_PROXY_AUTH', 'WF_NETWORK', 'WF_HANDSHAKE', 'WF_UPGRADE_STRIPPED', 'WF_OPEN_TIMEOUT', 'WF_NO_DATA',
  'WF_NO_WELCOME', 'WF_STALLED', 'WF_UPLINK_STALLED', 'WF_DISCONNECTED', 'WF_UNAUTHORIZED', 'WF_PROTOCOL', 'WF_VERSION',
  'WF_TOO_LARGE', 'WF_OUTBOX_FULL', 'WF_CLOSED', 'WF_SESSION_LOST', 'WF_SERVER_ERROR', 'WF_TRANSPORT', 'WF_INVALID',
  'WF_AUTH', 'WF_REQUEST_FAILED', 'WF_TIMEOUT',
] as const satisfies readonly ErrorCode[];
type Missing = Exclude<ErrorCode, (typeof ATTEMPT_REASONS)[number]>;
const everyCodeListed: [Missing] extends [never] ? true : Missing = true;
void everyCodeListed;
const REASONS: ReadonlySet<string> = new Set(ATTEMPT_REASONS);

/** A report refused, with why (sent to the client as a non-fatal `protocol_error`). */
export interface ReportProblem {
  code: 'protocol_error';
  message: string;
}

/** The attempts of a `report` frame's `a`, or the problem with it. */
export function readReport(a: readonly unknown[]): { attempts: AttemptReport[] } | ReportProblem {
  if (a.length > REPORT_MAX) return problem(`report of ${a.length} attempts; at most ${REPORT_MAX}`);
  const attempts: AttemptReport[] = [];
  for (let i = 0; i < a.length; i++) {
    const read = readEntry(a[i]);
    if (typeof read === 'string') return problem(`report entry ${i}: ${read}`);
    attempts.push(read);
  }
  return { attempts };
}

function readEntry(e: unknown): AttemptReport | string {
  if (!Array.isArray(e) || e.length < 3 || e.length > 4) return 'not [rung, outcome, ms, reason]';
  const [rung, outcome, ms, reason] = e as ReportEntry;
  if (!LADDER.includes(rung as RungName)) return `unknown rung ${quote(rung)}`;
  if (!OUTCOMES.includes(outcome as AttemptReport['outcome'])) return `unknown outcome ${quote(outcome)}`;
  if (typeof ms !== 'number' || !(ms >= 0)) return 'duration is not a number of ms';
  if (reason != null && !REASONS.has(reason as string)) return `unknown reason code ${quote(reason)}`;
  const r: AttemptReport = { rung: rung as RungName, outcome: outcome as AttemptReport['outcome'], ms: Math.min(Math.round(ms), 3_600_000) };
  if (reason != null) r.reason = reason as ErrorCode;
  return r;
}

const problem = (message: string): ReportProblem => ({ code: 'protocol_error', message });
/** A value quoted for a message, cut short: it came from the client. */
const quote = (x: unknown) => (typeof x === 'string' ? JSON.stringify(x.slice(0, 40)) : typeof x);

/** What a session's reports need of it. */
export interface ReportParts {
  id: string;
  opts: Pick<ResolvedServerOptions, 'logger' | 'metrics'>;
  /** Queues a frame to the client (a refusal). */
  reply: (frame: string) => void;
  /** Tells the app (`conn.on('attempts')`). */
  told: (attempts: readonly AttemptReport[]) => void;
}

/**
 * One session's reports: one per link; the last one taken is what `conn.attempts` shows. A bad or
 * second report is refused with a non-fatal `protocol_error`, without ending the link (§4.1).
 */
export class SessionReports {
  #last: readonly AttemptReport[] = [];
  /**
   * The links that reported, held weakly: a session outlives its links, and one kept here (with
   * its socket and closures) would stay for as long as the session waits for its client.
   */
  #reported = new WeakSet<object>();
  #p: ReportParts;

  constructor(parts: ReportParts) {
    this.#p = parts;
  }

  get attempts(): readonly AttemptReport[] {
    return this.#last;
  }

  /** A `report` frame that came on `link`: told to the app and the metrics, or refused. */
  receive(entries: readonly unknown[], link: object): void {
    const { opts, id } = this.#p;
    const read = this.#reported.has(link) ? problem('a second report on one link') : readReport(entries);
    if ('code' in read) {
      opts.logger.warn(`refused an attempt report: ${read.message}`, { session: id });
      opts.metrics?.refused(read.code);
      return this.#p.reply(encodeFrame.error(read.code, `report refused: ${read.message}`, undefined, false));
    }
    this.#last = read.attempts;
    this.#reported.add(link);
    opts.metrics?.attempts(read.attempts);
    this.#p.told(read.attempts);
  }
}
