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
  | { kind: 'proxy-auth' }; // 407 to every request, upgrades included

/**
 * What the proxy does with a request, by scenario: answer it itself (`reply`: status, reason,
 * extra header lines), let it die (`drop`: a TCP reset, or a hang that never answers), or pass
 * it on (`strip`: without its `Upgrade`). A pure decision; lab/exchange.ts applies it.
 */
export function requestVerdict(s: Scenario, upgrade: boolean): { reply?: [number, string, string[]?]; drop?: 'reset' | 'hang'; strip?: boolean } {
  if (s.kind === 'proxy-auth') return { reply: [407, 'Proxy Authentication Required', ['Proxy-Authenticate: Basic realm="lab"']] };
  if (!upgrade) return {};
  if (s.kind === 'refuse-upgrade') return s.how === '403' ? { reply: [403, 'Forbidden'] } : { drop: s.how };
  return { strip: s.kind === 'strip-upgrade' };
}

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
} as const satisfies Record<string, Scenario>;
