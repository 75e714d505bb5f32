import { seeded } from './random';

/** What the lab proxy does to the traffic it carries. See proxy.ts for the exact semantics. */
export type Scenario =
  | { kind: 'pass' }
  | { kind: 'refuse-upgrade'; how: '403' | 'reset' | 'hang' } // WebSocket upgrades only; other requests pass
  | { kind: 'strip-upgrade' } // WebSocket upgrades lose `Upgrade` and `Connection: upgrade`, and go on as plain GETs; others pass
  | { kind: 'rewrite-connection' } // upstream 101: `Connection: Upgrade` becomes `Connection: keep-alive`
  | { kind: 'drop-frames' } // 101 passes, then every byte both ways vanishes; sockets stay open
  | { kind: 'swallow-uplink' } // 101 and downlink pass, client→server bytes after the 101 vanish
  | { kind: 'buffer-sse'; bytes?: number } // hold event-stream head+body until `bytes` (default 65536) or upstream end
  | { kind: 'idle-cut'; ms: number } // destroy a connection silent in both directions for `ms`
  | { kind: 'random-cuts'; seed: number; meanMs: number } // destroy each connection after a seeded random lifetime
  | { kind: 'latency'; ms: number } // delay every chunk (and end) each way by `ms`, order kept
  | { kind: 'proxy-auth' } // 407 to every request, upgrades included
  | { kind: 'response-timeout'; ms: number } // cut every HTTP exchange `ms` after its request: event streams and held polls mid-way; upgraded sockets pass
  | { kind: 'gateway-error'; status: 502 | 503 | 504; on: RequestKind[]; every: number } // the answer to every `every`-th request of a kind in `on` is replaced by `status` (the request did reach upstream)
  | { kind: 'captive-portal' } // 200 with an HTML login page to every request, upgrades included; nothing reaches upstream
  | { kind: 'gzip-sse'; flush: 'chunk' | 'full' } // event streams gzip-encoded (when the client accepts gzip): flushed per upstream chunk, or only when the compressor's buffer is full
  | { kind: 'connection-limit'; max: number }; // a browser's per-origin pool (6 on HTTP/1.1): plain requests beyond `max` open connections wait for one to close; WebSocket upgrades refused (403)

/**
 * What a request is to wirefall, from its method and target (docs/protocol.md §2): a WebSocket
 * upgrade, the open POST of an event stream (`t=sse`, no `sid`), a long-poll (the open POST of
 * `t=lp`, or `poll=1`), an uplink POST (`sid`), or anything else.
 */
export type RequestKind = 'upgrade' | 'stream' | 'poll' | 'post' | 'other';

export function requestKind(method: string, target: string, upgrade: boolean): RequestKind {
  if (upgrade) return 'upgrade';
  if (method !== 'POST') return 'other';
  const q = new URLSearchParams(target.split('?')[1] ?? '');
  if (q.has('poll') || (q.get('t') === 'lp' && !q.has('sid'))) return 'poll';
  if (q.has('sid')) return 'post';
  return q.get('t') === 'sse' ? 'stream' : 'other';
}

/** The lab's own answer to a request: status, reason, extra header lines, and a body (else a plain-text status line). */
export interface Reply {
  status: number;
  reason: string;
  headers?: string[];
  body?: string;
}

/** A captive portal's login page: what a hotel or airport Wi-Fi answers before you accept its terms. */
const PORTAL_PAGE = '<!doctype html><html><head><title>Wi-Fi login</title></head><body><form method="post" action="/login"><p>Accept the terms to continue.</p><button>Connect</button></form></body></html>\n';

/**
 * What the proxy does with a request, by scenario: answer it itself (`reply`), let it die
 * (`drop`: a TCP reset, or a hang that never answers), or pass it on (`strip`: without its
 * `Upgrade`; `fault`: replace the upstream's answer, when it comes, by this status).
 * `nth` counts the requests of this kind under this scenario, from 1. A pure decision;
 * lab/exchange.ts applies it.
 */
export function requestVerdict(s: Scenario, kind: RequestKind, nth: number): { reply?: Reply; drop?: 'reset' | 'hang'; strip?: boolean; fault?: number } {
  if (s.kind === 'proxy-auth') return { reply: { status: 407, reason: 'Proxy Authentication Required', headers: ['Proxy-Authenticate: Basic realm="lab"'] } };
  if (s.kind === 'captive-portal') return { reply: { status: 200, reason: 'OK', headers: ['Content-Type: text/html; charset=utf-8', 'Cache-Control: no-store'], body: PORTAL_PAGE } };
  if (s.kind === 'gateway-error') return s.on.includes(kind) && nth % s.every === 0 ? { fault: s.status } : {};
  if (kind !== 'upgrade') return {};
  if (s.kind === 'connection-limit') return { reply: { status: 403, reason: 'Forbidden' } };
  if (s.kind === 'refuse-upgrade') return s.how === '403' ? { reply: { status: 403, reason: 'Forbidden' } } : { drop: s.how };
  return { strip: s.kind === 'strip-upgrade' };
}

/** Reason phrases for the statuses the lab answers with. */
export const REASONS: Record<number, string> = { 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout' };

/** After an upstream `101`, by scenario: `Connection` rewritten, and which directions vanish. */
export function afterUpgrade(s: Scenario): { rewrite: boolean; dropUp: boolean; dropDown: boolean } {
  return { rewrite: s.kind === 'rewrite-connection', dropUp: s.kind === 'drop-frames' || s.kind === 'swallow-uplink', dropDown: s.kind === 'drop-frames' };
}

/**
 * Lifetimes for `random-cuts`: exponential around `meanMs` (how independent failures arrive),
 * clamped to [1, 5 × meanMs] so a test run stays bounded. Same seed → same sequence.
 */
export function cutDelays(seed: number, meanMs: number): () => number {
  const next = seeded(seed);
  return () => Math.max(1, Math.min(meanMs * 5, Math.round(-Math.log(1 - next()) * meanMs)));
}

/**
 * The field failures from /work/shared/CONTEXT.md as scenarios, so a test can say which
 * incident it replays. Timed failures (idle cuts, latency, flaky links) take test-sized
 * numbers, so they are left to each test.
 */
export const fieldCases = {
  /** squid-style forward proxy: plain ws:// refused. */
  forwardProxyRefusesWs: { kind: 'refuse-upgrade', how: '403' },
  /** A proxy that does not know WebSocket: drops the hop-by-hop `Upgrade`, forwards a plain GET. */
  proxyStripsUpgrade: { kind: 'strip-upgrade' },
  /** i-FILTER-style web filter rewriting the 101 `Connection` header. */
  webFilterRewrites101: { kind: 'rewrite-connection' },
  /** Web filter that lets a lenient client through but stalls its frames. */
  webFilterStallsUplink: { kind: 'swallow-uplink' },
  /** Security software: handshake completes, frames never arrive. */
  antivirusSilentSocket: { kind: 'drop-frames' },
  /** Proxy buffering responses, so an event stream never opens. */
  bufferingProxy: { kind: 'buffer-sse' },
  /** Corporate proxy wanting credentials. */
  proxyWantsAuth: { kind: 'proxy-auth' },
  /** Hotel or airport Wi-Fi before its terms are accepted: 200 and a login page to everything. */
  captivePortal: { kind: 'captive-portal' },
  /** A proxy compressing event streams, buffered in the compressor until it has a block. */
  proxyGzipsEventStreams: { kind: 'gzip-sse', flush: 'full' },
  /** A browser on HTTP/1.1 with WebSocket refused: six connections per origin, for all its tabs. */
  sixConnectionsPerOrigin: { kind: 'connection-limit', max: 6 },
} as const satisfies Record<string, Scenario>;
