import { DEV } from '../dev';
import type { Platform, WebSocketConstructor } from '../platform';
import type { TransportFactory } from '../transports/transport';
import type { Rung, RungName } from './rungs';
import type { ClientLogger } from './logger';
import type { ShareFactory } from './session-tap';

/** Options of `connect`. Every timing has a default justified in docs/transports.md. */
export interface ClientOptions {
  /** WebSocket constructor where `globalThis.WebSocket` is missing (Node < 22: pass `ws`). */
  WebSocket?: WebSocketConstructor | undefined;
  /** `fetch` for the HTTP rungs where `globalThis.fetch` is missing. */
  fetch?: typeof fetch | undefined;
  /** Replace parts of the environment: clock, storage, random, wake signals (tests, workers). */
  platform?: Partial<Platform> | undefined;
  /** Which rungs to use, in ladder order. Default: every rung that applies to the URL. */
  transports?: readonly RungName[] | undefined;
  /** An explicit ladder instead of the one derived from the URL. */
  rungs?: readonly Rung[] | undefined;
  /** Port of the `wss` rung derived from an `http:`/`ws:` URL. Default 443. */
  securePort?: number | undefined;
  /**
   * Credentials for the server's `authenticate` hook. A function (which may return a promise) is
   * called before every connection attempt, and once more when the server refuses with 401, so
   * that tokens that expire are fetched fresh. A callback that throws or rejects is `WF_AUTH`.
   * @example auth: async () => (await fetch('/token')).text()
   */
  auth?: unknown | (() => unknown);
  /** Start the next rung when the current one has not verified within this many ms. Default 250. */
  stagger?: number | undefined;
  /** On a cold start (nothing remembered), start the first HTTP rung at once beside WebSocket. Default true. */
  earlyFallback?: boolean | undefined;
  /** An attempt that has not heard the server's greeting within this many ms fails. Default 5000. */
  openTimeout?: number | undefined;
  /** After the greeting, the welcome may take this long (slow `authenticate`). Default 15000. */
  welcomeTimeout?: number | undefined;
  /** Messages or pings unanswered for this long mean a stall. Default 2000. */
  answerDeadline?: number | undefined;
  /** Reconnect backoff: full jitter up to `base·2ⁿ`, capped at `max` ms. `false` disables. Default 250 / 30000. */
  reconnect?: { base?: number | undefined; max?: number | undefined } | false | undefined;
  /** Outbox bounds: queued plus unacknowledged messages. Default 10000 messages, 8 MiB. */
  outbox?: { maxMessages?: number | undefined; maxBytes?: number | undefined; highWaterBytes?: number | undefined } | undefined;
  /** How long the last working rung is remembered per server (localStorage where available). Default 1 h; 0 disables. */
  rememberRungMs?: number | undefined;
  /** While on a lower rung, try the higher ones after `first` ms, doubling up to `max`. `false` disables. Default 3000 / 300000. */
  upgradeProbe?: { first?: number | undefined; max?: number | undefined } | false | undefined;
  /** Transport implementations per rung (to add, replace or leave out rungs). */
  transportFactories?: Partial<Record<RungName, TransportFactory>> | undefined;
  /**
   * Where configuration warnings go (a missing WebSocket implementation). Default: `console`, once.
   * To log what the client does (attempts, transitions, stalls, climbs), call `logClient(client, console)`.
   */
  logger?: ClientLogger | undefined;
  /**
   * One connection for every tab of the origin: pass `share()` from `wirefall/share` (a separate
   * entry, so apps that do not share do not download it). Default: not shared. docs/sharing.md.
   */
  share?: ShareFactory | undefined;
}

/** @internal */
export interface ResolvedTimings {
  stagger: number;
  early: boolean;
  openTimeout: number;
  welcomeTimeout: number;
  answerDeadline: number;
  backoff: { base: number; max: number } | false;
  maxMessages: number;
  maxBytes: number;
  highWaterBytes: number;
  rememberRungMs: number;
  /** The climb schedule (option `upgradeProbe`). */
  climb: { first: number; max: number } | false;
}

/** @internal */
export function resolveTimings(o: ClientOptions): ResolvedTimings {
  const r = o.reconnect;
  const p = o.upgradeProbe;
  /**
   * A duration or a bound the client cannot do without: a number above 0 (a string of one counts
   * as that number), else the default. A string, NaN or 0 made a delay of 0, a NaN or a string
   * concatenation: a reconnect or climb loop without backoff, a liveness timer armed at once over
   * and over, an outbox without bound. Not a throw: the production build could not name the
   * option (src/dev.ts), and must not throw where the default build does not. The default build
   * warns (the logger option, else the console).
   */
  const n = (v: unknown, d: number, name: string): number => {
    const x = (v as number) > 0 ? +(v as number) : d;
    if (DEV && v !== x && v !== undefined) (o.logger ?? console).warn?.(`[wirefall] connect: ${name} must be a number above 0; got ${typeof v == 'string' ? JSON.stringify(v) : String(v)}, using ${x}`);
    return x;
  };
  return {
    // 0 is meaningful for these two (every rung at once; no memory), and nothing loops on a bad one.
    stagger: o.stagger ?? 250,
    early: o.earlyFallback !== false,
    openTimeout: n(o.openTimeout, 5000, 'openTimeout'),
    welcomeTimeout: n(o.welcomeTimeout, 15000, 'welcomeTimeout'),
    answerDeadline: n(o.answerDeadline, 2000, 'answerDeadline'),
    backoff: r === false ? false : { base: n(r?.base, 250, 'reconnect.base'), max: n(r?.max, 30000, 'reconnect.max') },
    maxMessages: n(o.outbox?.maxMessages, 10000, 'outbox.maxMessages'),
    maxBytes: n(o.outbox?.maxBytes, 8 * 1024 * 1024, 'outbox.maxBytes'),
    highWaterBytes: n(o.outbox?.highWaterBytes, 1024 * 1024, 'outbox.highWaterBytes'),
    rememberRungMs: o.rememberRungMs ?? 60 * 60 * 1000,
    climb: p === false ? false : { first: n(p?.first, 3000, 'upgradeProbe.first'), max: n(p?.max, 300_000, 'upgradeProbe.max') },
  };
}
