import type { Logger } from './options';

/** How much the server says: `warn` (the default) is refusals and bad input, as before levels existed. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

/** @internal The server's own view of the app's logger: every level present, filtered, never throwing. */
export type LevelLogger = Required<Logger>;

const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3, silent: 4 };
const LEVELS = ['debug', 'info', 'warn', 'error'] as const;
type Line = (message: string, context?: Record<string, unknown>) => void;

/**
 * The app's logger at `level`: lower levels become no-ops, a logger with `warn` only (the shape
 * before levels) gets `error` lines on `warn` and no `info`/`debug` lines, and every line goes
 * through `throttle` (a repeated line is written once per interval).
 */
export function leveled(logger: Logger, level: LogLevel, throttle: (say: Line) => Line): LevelLogger {
  const out = {} as LevelLogger;
  for (const l of LEVELS) {
    const method = (l === 'error' ? (logger.error ?? logger.warn) : logger[l])?.bind(logger);
    out[l] = RANK[l] < RANK[level] || !method ? () => {} : throttle(safe(method));
  }
  return out;
}

/** A logger that throws is not allowed to propagate: nothing sensible is left to tell. */
const safe = (say: Line): Line => (m, c) => {
  try {
    say(m, c);
  } catch {
    /* the app's logger failed */
  }
};

/** The default: `console`, each line marked as ours. */
export const consoleLogger: Logger = {
  debug: (m, c) => console.debug(`[wirefall] ${m}`, c ?? ''),
  info: (m, c) => console.info(`[wirefall] ${m}`, c ?? ''),
  warn: (m, c) => console.warn(`[wirefall] ${m}`, c ?? ''),
  error: (m, c) => console.error(`[wirefall] ${m}`, c ?? ''),
};
