import type { RungName } from '../protocol/api';
import type { AttemptRecord } from './attempt';
import type { ClientEvents, ConnectionState } from './client-types';

/** Where a client reports what it does (`console` has this shape); each level is optional. */
export interface ClientLogger {
  debug?(message: string, context?: Record<string, unknown>): void;
  info?(message: string, context?: Record<string, unknown>): void;
  warn?(message: string, context?: Record<string, unknown>): void;
  error?(message: string, context?: Record<string, unknown>): void;
}

/** The lowest level a client logger is told: `info` by default once a `logger` is given. */
export type ClientLogLevel = 'debug' | 'info' | 'warn' | 'error';

const RANK: Record<ClientLogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

interface Watched {
  on<E extends keyof ClientEvents>(event: E, listener: ClientEvents[E]): () => void;
  readonly state: ConnectionState;
  readonly rung: RungName | null;
}

/**
 * Tells `logger` what a client does, from its public events: each attempt with its reason,
 * transitions, stalls, climbs and falls, resumes and lost sessions; returns the function that
 * stops it. A client stays silent without it; a logger that throws is ignored. It is a function
 * of its own, not a `connect` option, so that apps that log nothing do not download the text.
 * @example
 * const client = connect(url);
 * logClient(client, console, 'info');
 */
export function logClient(client: Watched, logger: ClientLogger, level: ClientLogLevel = 'info'): () => void {
  const say = (l: ClientLogLevel, message: string, context?: Record<string, unknown>) => {
    if (RANK[l] < RANK[level]) return;
    try {
      logger[l]?.(`[wirefall] ${message}`, context);
    } catch {
      /* the app's logger failed: nothing sensible is left to tell */
    }
  };
  let was: { state: ConnectionState; rung: RungName | null } = { state: client.state, rung: client.rung };
  let lost = false;
  const offs = [
    client.on('attempt', (a: AttemptRecord) => {
      const why = a.reason ? `: ${a.reason}${a.status ? ` ${a.status}` : ''}${a.message ? ` (${a.message})` : ''}` : '';
      const l = a.outcome === 'failed' ? 'warn' : 'info';
      say(l, `attempt on ${a.rung} ${a.outcome} after ${Math.round(a.duration)} ms${why}`, { url: a.url });
    }),
    client.on('state', (state, rung) => {
      const from = was;
      was = { state, rung };
      if (from.state === 'open' && state === 'open') return say('info', `moved from ${from.rung} to ${rung}${ladderIndex(rung) < ladderIndex(from.rung) ? ' (climbed)' : ''}`);
      if (state === 'open' && from.state === 'reconnecting') say('info', lost ? `new session on ${rung} (the old one was lost)` : `resumed the session on ${rung}`);
      else say('info', `${from.state} → ${state}${rung ? ` on ${rung}` : ''}`);
      lost = false;
    }),
    client.on('sessionlost', (u) => ((lost = true), say('warn', `the server lost the session: ${u.length} message(s) may not have arrived`))),
    client.on('backpressure', (high, bytes) => say(high ? 'warn' : 'info', high ? `outbox above its high-water mark (${bytes} bytes)` : `outbox drained (${bytes} bytes)`)),
    client.on('error', (e) => {
      // Attempt failures are told by their records; here: stalls, cuts, refusals, app errors.
      const stall = e.code === 'WF_STALLED' || e.code === 'WF_UPLINK_STALLED';
      say(e.retryable ? (stall ? 'warn' : 'debug') : 'error', `${stall ? 'stalled' : 'error'}${e.rung ? ` on ${e.rung}` : ''}: ${e.code} ${e.message}`);
    }),
  ];
  return () => offs.forEach((off) => off());
}

const ladderIndex = (r: RungName | null) => (r ? ['wss', 'ws', 'sse', 'longpoll'].indexOf(r) : 99);
