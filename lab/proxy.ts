/**
 * The hostile-network lab: an HTTP/1.1 reverse proxy working on raw TCP/TLS bytes, so tests can
 * replay what filters, antivirus suites, buffering proxies and flaky links do to realtime traffic
 * (see /work/shared/CONTEXT.md). Clients talk to it exactly as to the real server.
 *
 * Design choices, all for simplicity over fidelity where fidelity is not the point:
 * - One request per client connection. Every non-upgrade request is forwarded with
 *   `Connection: close` and every non-101 response reaches the client with `Connection: close`,
 *   so we only parse heads and can stream bodies (Content-Length, chunked or close-delimited)
 *   through untouched, ending each side when the other ends. Pipelined requests are not split.
 * - `Host` and `Origin` are forwarded unchanged: the upstream sees the proxy's `Host`, which is
 *   what a real reverse proxy in front of it would usually keep.
 * - Byte counters count what the proxy *received* (before any dropping), per direction.
 * - buffer-sse keeps buffering after the first flush (batches of `bytes`, counted as raw body
 *   bytes, chunked framing included), as a buffering proxy does: every event waits, not just the first.
 * - drop-frames / swallow-uplink drop bytes, never FIN or RST: a client closing still closes.
 * - Cuts (idle-cut, random-cuts, cutAll) destroy both sockets; the client sees a plain close
 *   (FIN), a `ws` client a 1006. refuse-upgrade `reset` sends a real RST, under TLS too.
 * - No TLS verification towards a TLS upstream (`rejectUnauthorized: false`): it is a lab.
 * - response-timeout counts from the client's connection (one request per connection), and
 *   spares a WebSocket once its `101` passed: that is a proxy's read timeout, not an idle cut.
 * - gateway-error forwards the request and replaces the answer's head (and drops its body), so
 *   the server did handle it: the harder case, where only the answer is lost. Counted per kind.
 * - gzip-sse compresses only for a request with `Accept-Encoding: gzip`, as proxies do (fetch in
 *   browsers and Node sends it); the upstream's chunked body is de-chunked, then gzip goes down
 *   close-delimited.
 * - connection-limit is the browser's pool seen from the wire: the request is read, then waits
 *   (not forwarded) until fewer than `max` forwarded requests are still open. The limit spans
 *   every client of the lab, as a browser's spans its tabs. A waiting request whose client gives
 *   up leaves the queue. First come, first served: Chromium's pool serves waiting requests by
 *   priority, then in order, and wirefall's fetches all have the default priority.
 */
import net from 'node:net';
import tls from 'node:tls';
import { Exchange, type Hub } from './exchange';
import { cutDelays, type RequestKind, type Scenario } from './scenarios';

export type { Scenario } from './scenarios';

export type ExchangeKind = 'ws' | 'sse' | 'http';

export interface LabStats {
  /** Exchanges by kind: `ws` from the request's `Upgrade`, `sse`/`http` from the response. */
  connections: Record<ExchangeKind, number>;
  /** 101 answers forwarded to a client (rewritten ones included). */
  upgradesPassed: number;
  /** WebSocket upgrades forwarded as plain requests under `strip-upgrade`. */
  upgradesStripped: number;
  bytesUp: number;
  bytesDown: number;
  /** Connections the lab destroyed on purpose: idle-cut, random-cuts, cutAll. */
  cuts: number;
  /** Lifetimes (ms) drawn under `random-cuts`, in accept order; lets tests check reproducibility. */
  plannedCuts: number[];
  /** Answers replaced by a gateway error (`gateway-error`). */
  faults: number;
  /** Event streams gzip-encoded (`gzip-sse`). */
  gzipped: number;
  /** Requests that waited for a free connection (`connection-limit`), and the most connections open at once. */
  waited: number;
  peakConnections: number;
}

export interface Lab {
  readonly port: number;
  /** `http://127.0.0.1:PORT`, or `https://localhost:PORT` in TLS mode (the test cert's name). */
  readonly url: string;
  /** Same with `ws:`/`wss:`. */
  readonly wsUrl: string;
  /** New connections use the new scenario; live ones keep theirs unless cut. */
  scenario: Scenario;
  setScenario(s: Scenario, opts?: { cutExisting?: boolean }): void;
  /** A snapshot; read it again to see later changes. */
  readonly stats: LabStats;
  resetStats(): void;
  cutAll(): void;
  /** Every live connection goes silent both ways, without a close (a dead NAT entry, a lost Wi-Fi). */
  freezeAll(): void;
  close(): Promise<void>;
}

export interface LabOptions {
  upstream: { host: string; port: number; tls?: boolean };
  scenario?: Scenario;
  tls?: { key: string; cert: string };
}

class LabProxy implements Lab {
  readonly #server: net.Server;
  readonly #secure: boolean;
  readonly #hub: Hub;
  readonly #live = new Set<Exchange>();
  readonly #raw = new Set<net.Socket>(); // TCP sockets, including ones still in a TLS handshake
  #scenario: Scenario = { kind: 'pass' };
  #nextCut: (() => number) | undefined;
  #counts = new Map<RequestKind, number>();
  readonly #pool = new Set<Exchange>(); // connection-limit: exchanges holding a connection
  #queue: { x: Exchange; go: () => void }[] = []; // … and those waiting for one, in order
  #closing: Promise<void> | undefined;

  constructor(opts: LabOptions) {
    this.#secure = !!opts.tls;
    this.#hub = {
      stats: emptyStats(),
      upstream: opts.upstream,
      forget: (x) => (this.#live.delete(x), this.#release(x)),
      nth: (kind) => {
        const n = (this.#counts.get(kind) ?? 0) + 1;
        this.#counts.set(kind, n);
        return n;
      },
      slot: (x, go) => {
        this.#queue.push({ x, go });
        if (this.#queue.length > 1 || this.#pool.size >= this.#max()) this.#hub.stats.waited++;
        this.#release();
      },
    };
    this.setScenario(opts.scenario ?? { kind: 'pass' });
    const accept = (socket: net.Socket): void => {
      const cutAfter = this.#nextCut?.();
      if (cutAfter !== undefined) this.#hub.stats.plannedCuts.push(cutAfter);
      this.#live.add(new Exchange(this.#hub, this.#scenario, socket, cutAfter));
    };
    // allowHalfOpen: we decide when each side ends, so delayed bytes are not cut off by an early FIN.
    this.#server = opts.tls
      ? tls.createServer({ key: opts.tls.key, cert: opts.tls.cert, allowHalfOpen: true }, accept)
      : net.createServer({ allowHalfOpen: true }, accept);
    this.#server.on('connection', (s: net.Socket) => {
      this.#raw.add(s);
      s.on('close', () => this.#raw.delete(s));
      s.on('error', () => {});
    });
    this.#server.on('tlsClientError', () => {}); // a client rejecting our cert is its business
  }

  listen(): Promise<this> {
    return new Promise((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(0, '127.0.0.1', () => {
        this.#server.off('error', reject);
        resolve(this);
      });
    });
  }

  get port(): number {
    return (this.#server.address() as net.AddressInfo | null)?.port ?? 0;
  }
  get url(): string {
    return this.#secure ? `https://localhost:${this.port}` : `http://127.0.0.1:${this.port}`;
  }
  get wsUrl(): string {
    return this.url.replace(/^http/, 'ws');
  }
  get scenario(): Scenario {
    return this.#scenario;
  }
  set scenario(s: Scenario) {
    this.setScenario(s);
  }

  setScenario(s: Scenario, opts?: { cutExisting?: boolean }): void {
    this.#scenario = s;
    this.#counts.clear();
    this.#release();
    // A fresh PRNG per setting, so re-applying a seed replays the same cuts.
    this.#nextCut = s.kind === 'random-cuts' ? cutDelays(s.seed, s.meanMs) : undefined;
    if (opts?.cutExisting) this.cutAll();
  }

  #max(): number {
    return this.#scenario.kind === 'connection-limit' ? this.#scenario.max : Infinity;
  }

  /** connection-limit: `x` gave its connection back (or left the queue); the next waiting take theirs, in order. */
  #release(x?: Exchange): void {
    if (x) {
      this.#pool.delete(x);
      this.#queue = this.#queue.filter((w) => w.x !== x);
    }
    while (this.#queue.length && this.#pool.size < this.#max()) {
      const next = this.#queue.shift()!;
      this.#pool.add(next.x);
      this.#hub.stats.peakConnections = Math.max(this.#hub.stats.peakConnections, this.#pool.size);
      next.go();
    }
  }

  get stats(): LabStats {
    return structuredClone(this.#hub.stats);
  }

  resetStats(): void {
    this.#hub.stats = emptyStats();
  }

  cutAll(): void {
    for (const x of [...this.#live]) x.cut();
  }

  freezeAll(): void {
    for (const x of this.#live) x.freeze();
  }

  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      for (const x of [...this.#live]) x.destroy();
      for (const s of this.#raw) s.destroy();
    });
    return this.#closing;
  }
}

function emptyStats(): LabStats {
  return { connections: { ws: 0, sse: 0, http: 0 }, upgradesPassed: 0, upgradesStripped: 0, bytesUp: 0, bytesDown: 0, cuts: 0, plannedCuts: [], faults: 0, gzipped: 0, waited: 0, peakConnections: 0 };
}

/** Start a lab proxy on 127.0.0.1, on a free port. */
export function startLab(opts: LabOptions): Promise<Lab> {
  return new LabProxy(opts).listen();
}
