import { WirefallError } from '../protocol/errors';
import type { ServerOptions } from './options';

/**
 * The options `createServer` takes, checked before anything starts: a wrong one throws
 * `WF_INVALID` naming the option, instead of a server that runs and fails every client. Values
 * from the environment are strings (`heartbeatMs: process.env.HB`): a string heartbeat went out in
 * every welcome, and every client refused it as a protocol error and reconnected for ever. Timers
 * over 2³¹−1 ms fire at once in Node and in browsers (a 30-day `sessionTtlMs` ended every session
 * at its first disconnect).
 */
export function checkServerOptions<U>(o: ServerOptions<U>): void {
  // [name, value, smallest]: durations in ms, up to what a timer can wait.
  const ms: [string, unknown, number][] = [
    // A heartbeat under 10 ms is a ping storm, and every client's liveness would fail at once.
    ['heartbeatMs', o.heartbeatMs, 10],
    ['helloTimeoutMs', o.helloTimeoutMs, 1],
    ['authTimeoutMs', o.authTimeoutMs, 1],
    ['sessionTtlMs', o.sessionTtlMs, 0],
    ['storeGraceMs', o.storeGraceMs, 0],
    ['logRepeatMs', o.logRepeatMs, 0],
    ['headersTimeoutMs', o.headersTimeoutMs, 1],
    ['bodyTimeoutMs', o.bodyTimeoutMs, 1],
  ];
  for (const [name, v, min] of ms) number(name, v, min, MAX_TIMER);
  for (const [name, v] of [['maxMessageBytes', o.maxMessageBytes], ['maxBufferedBytes', o.maxBufferedBytes], ['replay.maxMessages', o.replay?.maxMessages], ['replay.maxBytes', o.replay?.maxBytes]] as const) {
    number(name, v, 1, Number.MAX_SAFE_INTEGER);
  }
  for (const which of ['session', 'ip'] as const) {
    const r = o.rateLimit?.[which];
    if (r === undefined || r === false) continue;
    if (typeof r !== 'object' || r === null) fail(`rateLimit.${which}`, r, '{ perSecond, burst }, or false');
    positive(`rateLimit.${which}.perSecond`, r.perSecond);
    positive(`rateLimit.${which}.burst`, r.burst);
  }
  if (o.path !== undefined && (typeof o.path !== 'string' || !/^\/[^?#]*$/.test(o.path))) fail('path', o.path, 'a path that starts with "/" (no query, no fragment)');
  if (o.logLevel !== undefined && !['debug', 'info', 'warn', 'error', 'silent'].includes(o.logLevel)) fail('logLevel', o.logLevel, '"debug", "info", "warn", "error" or "silent"');
  const origins = o.allowedOrigins;
  if (origins !== undefined && typeof origins !== 'function' && !(Array.isArray(origins) && origins.every((x) => typeof x === 'string'))) {
    fail('allowedOrigins', origins, 'an array of origins (strings) or a function');
  }
  for (const name of ['authenticate', 'identify'] as const) if (o[name] !== undefined && typeof o[name] !== 'function') fail(name, o[name], 'a function');
  if (o.logger !== undefined && typeof o.logger?.warn !== 'function') fail('logger', o.logger, 'an object with a warn method (and debug, info, error if you like)');
}

/** The longest wait `setTimeout` takes (a signed 32-bit count of ms); longer ones fire at once. */
const MAX_TIMER = 2 ** 31 - 1;

function number(name: string, v: unknown, min: number, max: number): void {
  if (v !== undefined && !(typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max)) fail(name, v, `a whole number from ${min} to ${max}`);
}

function positive(name: string, v: unknown): void {
  if (!(typeof v === 'number' && Number.isFinite(v) && v > 0)) fail(name, v, 'a number above 0');
}

function fail(name: string, v: unknown, wanted: string): never {
  const got = typeof v === 'string' ? `the string ${JSON.stringify(v.slice(0, 40))}` : typeof v === 'object' && v !== null ? 'an object' : String(v);
  throw new WirefallError('WF_INVALID', `createServer: ${name} must be ${wanted}; got ${got}`);
}
