/**
 * `wirefall/server/metrics`: Prometheus metrics for a wirefall server, with prom-client. In its
 * own entry so that a server without metrics never loads (or needs) the `prom-client` package.
 *
 * @example
 * import { createServer } from 'wirefall/server';
 * import { serverMetrics } from 'wirefall/server/metrics';
 * const metrics = serverMetrics();
 * const server = createServer<Chat>({ metrics });
 * // on the app's HTTP server (or an internal port):
 * if (req.url === '/metrics') return metrics.handler(req, res);
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Counter, Gauge, Registry } from 'prom-client';
import type { AttemptReport } from './attempt-report';
import type { ObservedSession, ServerObserver } from './observer';
import type { WireErrorCode } from '../protocol/wire-errors';

export type { ServerObserver, ObservedSession } from './observer';
export type { AttemptReport } from './attempt-report';

/** One pass over the sessions: counts by rung, replay sums. */
interface Census {
  rungs: Map<string, number>;
  replay: { messages: number; bytes: number; max: number };
}

/** Options of `serverMetrics`. */
export interface ServerMetricsOptions {
  /** Register here (the app's own registry, beside its other metrics). Default: a registry of its own. */
  registry?: Registry;
  /** Prefix of every metric name. Default `wirefall_`. */
  prefix?: string;
  /** Labels put on every metric, e.g. `{ node: 'a' }` when several nodes share a scrape job. */
  labels?: Record<string, string>;
}

/**
 * The metrics of one or more servers (each `createServer({ metrics })` adds its sessions):
 *
 * | metric | type | labels |
 * | --- | --- | --- |
 * | `wirefall_sessions` | gauge | `rung` (`wss`, `ws`, `sse`, `longpoll`, `away`: waiting for a resume) |
 * | `wirefall_attempts_total` | counter | `rung`, `outcome` (`verified`, `failed`, `abandoned`), `reason` (`WF_NO_DATA`…, `none`) |
 * | `wirefall_messages_total` | counter | `direction` (`in`: from clients, `out`: to clients) |
 * | `wirefall_replay_messages`, `wirefall_replay_bytes` | gauge | — (sum over sessions: unacknowledged messages) |
 * | `wirefall_replay_messages_max` | gauge | — (the largest replay of one session) |
 * | `wirefall_takeovers_total` | counter | `direction` (`in`, `out`, `parked`) |
 * | `wirefall_refusals_total` | counter | `code` (the wire error code: `unauthorized`, `rate_limited`…) |
 */
export class ServerMetrics implements ServerObserver {
  /** Where the metrics live; `registry.metrics()` is the exposition text. */
  readonly registry: Registry;
  #sources: (() => Iterable<ObservedSession>)[] = [];
  // Messages are counted per message: a plain increment here, handed to the counter when scraped.
  #in = 0;
  #out = 0;
  #attempts: Counter<'rung' | 'outcome' | 'reason'>;
  #takeovers: Counter<'direction'>;
  #refusals: Counter<'code'>;

  constructor(options: ServerMetricsOptions = {}) {
    const registry = (this.registry = options.registry ?? new Registry());
    const p = options.prefix ?? 'wirefall_';
    const registers = [registry];
    if (options.labels) registry.setDefaultLabels(options.labels);
    const sessions = () => this.#sessions();
    new Gauge({
      name: `${p}sessions`, help: 'Live sessions by the rung of their link (away: waiting for a resume)', labelNames: ['rung'], registers,
      collect() {
        this.reset();
        for (const [rung, n] of sessions().rungs) this.set({ rung }, n);
      },
    });
    const replay = (name: string, help: string, pick: (r: { messages: number; bytes: number; max: number }) => number) =>
      new Gauge({ name: `${p}${name}`, help, registers, collect() { this.set(pick(sessions().replay)); } });
    replay('replay_messages', 'Messages waiting for acknowledgement, over all sessions', (r) => r.messages);
    replay('replay_bytes', 'Bytes of the messages waiting for acknowledgement, over all sessions', (r) => r.bytes);
    replay('replay_messages_max', 'The largest replay of one session, in messages', (r) => r.max);
    const self = this;
    new Counter({
      name: `${p}messages_total`, help: 'Application messages handled from clients (in) and queued to clients (out)', labelNames: ['direction'], registers,
      collect() {
        this.inc({ direction: 'in' }, self.#in);
        this.inc({ direction: 'out' }, self.#out);
        self.#in = self.#out = 0;
      },
    });
    this.#attempts = new Counter({ name: `${p}attempts_total`, help: 'Connection attempts clients reported, by rung, outcome and reason code', labelNames: ['rung', 'outcome', 'reason'], registers });
    this.#takeovers = new Counter({ name: `${p}takeovers_total`, help: 'Sessions taken over from another node (in), given to one (out), left in the store at shutdown (parked)', labelNames: ['direction'], registers });
    this.#refusals = new Counter({ name: `${p}refusals_total`, help: 'Requests refused and links ended for the client, by wire error code', labelNames: ['code'], registers });
  }

  /**
   * Answers a scrape: the exposition text of `registry`. Mount it where Prometheus scrapes
   * (`if (req.url === '/metrics') metrics.handler(req, res)`), best on a port the public cannot reach.
   */
  readonly handler = (_req: IncomingMessage, res: ServerResponse): void => {
    this.registry.metrics().then(
      (text) => void res.writeHead(200, { 'Content-Type': this.registry.contentType, 'Cache-Control': 'no-store' }).end(text),
      (err: unknown) => void res.writeHead(500, { 'Content-Type': 'text/plain' }).end(`metrics failed: ${String(err)}`),
    );
  };

  /** Called by the server (`ServerObserver`); returns what its `close()` calls to stop being read. */
  watch(sessions: () => Iterable<ObservedSession>): () => void {
    this.#sources.push(sessions);
    // Each closed server used to stay here (and with it its HTTP server, rungs and hub) for as
    // long as the metrics lived: 200 servers created and closed on one metrics kept all 200.
    return () => void (this.#sources = this.#sources.filter((s) => s !== sessions));
  }
  /** Called by the server (`ServerObserver`). */
  messageIn(): void {
    this.#in++;
  }
  /** Called by the server (`ServerObserver`). */
  messageOut(): void {
    this.#out++;
  }
  /** Called by the server (`ServerObserver`). */
  attempts(reports: readonly AttemptReport[]): void {
    for (const a of reports) this.#attempts.inc({ rung: a.rung, outcome: a.outcome, reason: a.reason ?? 'none' });
  }
  /** Called by the server (`ServerObserver`). */
  takeover(direction: 'in' | 'out' | 'parked'): void {
    this.#takeovers.inc({ direction });
  }
  /** Called by the server (`ServerObserver`). */
  refused(code: WireErrorCode): void {
    this.#refusals.inc({ code });
  }

  /**
   * One pass over every watched session per scrape: four gauges read it, each in its own
   * `collect`. A scrape calls every `collect` in one synchronous run (prom-client's `metrics()`),
   * so the pass is kept until the next microtask: one pass per scrape, never a stale one.
   */
  #sessions(): Census {
    if (this.#cache) return this.#cache;
    const rungs = new Map<string, number>([['wss', 0], ['ws', 0], ['sse', 0], ['longpoll', 0], ['away', 0]]);
    const replay = { messages: 0, bytes: 0, max: 0 };
    for (const source of this.#sources) {
      for (const s of source()) {
        const rung = s.rung ?? 'away';
        rungs.set(rung, (rungs.get(rung) ?? 0) + 1);
        const b = s.buffered;
        replay.messages += b.messages;
        replay.bytes += b.bytes;
        if (b.messages > replay.max) replay.max = b.messages;
      }
    }
    queueMicrotask(() => (this.#cache = undefined));
    return (this.#cache = { rungs, replay });
  }
  #cache: Census | undefined;
}

/**
 * Prometheus metrics for `createServer({ metrics })`. Needs `npm install prom-client` (≥ 15).
 * @example
 * const metrics = serverMetrics({ labels: { node: process.env.NODE_ID ?? 'a' } });
 * const server = createServer<Chat>({ metrics, store: redisStore() });
 */
export function serverMetrics(options: ServerMetricsOptions = {}): ServerMetrics {
  return new ServerMetrics(options);
}
