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
 */
import net from 'node:net';
import tls from 'node:tls';
import { performance } from 'node:perf_hooks';
import { cutDelays, type Scenario } from './scenarios';

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

const HEAD_END = Buffer.from('\r\n\r\n');
const MAX_HEAD = 64 * 1024;
const EMPTY = Buffer.alloc(0);

interface Head {
  line: string;
  headers: [string, string][];
}

function parseHead(raw: Buffer): Head | undefined {
  const [line, ...rest] = raw.toString('latin1').split('\r\n');
  if (!line || !/^\S+ \S+/.test(line)) return undefined;
  const headers: [string, string][] = [];
  for (const h of rest) {
    const i = h.indexOf(':');
    if (i <= 0) return undefined;
    headers.push([h.slice(0, i).trim(), h.slice(i + 1).trim()]);
  }
  return { line, headers };
}

const getHeader = (h: Head, name: string): string | undefined =>
  h.headers.find(([n]) => n.toLowerCase() === name)?.[1];

/** Replace the first `name` header in place (order matters to picky peers), drop the rest. */
function setHeader(h: Head, name: string, value?: string): void {
  const i = h.headers.findIndex(([n]) => n.toLowerCase() === name);
  h.headers = h.headers.filter(([n], j) => j === i || n.toLowerCase() !== name);
  if (i < 0) {
    if (value !== undefined) h.headers.push([name.replace(/(^|-)\w/g, (c) => c.toUpperCase()), value]);
  } else if (value === undefined) {
    h.headers.splice(i, 1);
  } else {
    h.headers[i] = [h.headers[i]![0], value];
  }
}

const serialize = (h: Head): Buffer =>
  Buffer.from(`${h.line}\r\n${h.headers.map(([n, v]) => `${n}: ${v}\r\n`).join('')}\r\n`, 'latin1');

/** Runs actions `ms` later in FIFO order with one timer, so latency never reorders bytes. */
class DelayLine {
  readonly #ms: number;
  #queue: { due: number; run: () => void }[] = [];
  #timer: NodeJS.Timeout | undefined;
  constructor(ms: number) {
    this.#ms = ms;
  }
  push(run: () => void): void {
    if (this.#ms <= 0 && this.#queue.length === 0) return run();
    this.#queue.push({ due: performance.now() + this.#ms, run });
    this.#arm();
  }
  clear(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#queue = [];
  }
  #arm(): void {
    const first = this.#queue[0];
    if (this.#timer || !first) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      const now = performance.now();
      while (this.#queue[0] && this.#queue[0].due <= now) this.#queue.shift()!.run();
      this.#arm();
    }, Math.max(0, Math.ceil(first.due - performance.now())));
  }
}

/** What an exchange needs from its lab; the lab's own fields stay private. */
interface Hub {
  stats: LabStats;
  upstream: LabOptions['upstream'];
  forget(x: Exchange): void;
}

/** One client connection and its upstream connection, under one scenario fixed at accept. */
class Exchange {
  readonly #hub: Hub;
  readonly #s: Scenario;
  readonly #client: net.Socket;
  #upstream: net.Socket | undefined;
  #state: 'request' | 'response' | 'body' | 'done' = 'request';
  #reqBuf = EMPTY;
  #resBuf = EMPTY;
  #upgrade = false;
  #kind: ExchangeKind | undefined;
  #answered = false; // any upstream byte sent to the client yet (else a failure becomes a 502)
  #dropUp = false;
  #dropDown = false;
  #held: Buffer[] | undefined; // buffer-sse: head and body bytes waiting for a flush
  #heldBody = 0;
  #clientEnded = false;
  #upstreamEnded = false;
  #upstreamClosed = false;
  #finished = false;
  readonly #up: DelayLine;
  readonly #down: DelayLine;
  readonly #timers: NodeJS.Timeout[] = [];
  #idle: NodeJS.Timeout | undefined;

  constructor(hub: Hub, scenario: Scenario, client: net.Socket, cutAfter: number | undefined) {
    this.#hub = hub;
    this.#s = scenario;
    this.#client = client;
    const ms = scenario.kind === 'latency' ? scenario.ms : 0;
    this.#up = new DelayLine(ms);
    this.#down = new DelayLine(ms);
    client.setNoDelay(true); // latency tests measure our delay, not Nagle's
    client.on('data', (c: Buffer) => this.#onClientData(c));
    client.on('end', () => this.#onClientEnd());
    client.on('error', () => {}); // resets are part of the game; 'close' follows
    client.on('close', () => this.#onClientClose());
    if (scenario.kind === 'idle-cut') {
      this.#idle = setTimeout(() => this.cut(), scenario.ms);
      this.#timers.push(this.#idle);
    }
    if (cutAfter !== undefined) this.#timers.push(setTimeout(() => this.cut(), cutAfter));
  }

  /** The path dies silently: nothing more passes either way, and nobody is told. */
  freeze(): void {
    this.#dropUp = this.#dropDown = true;
  }

  cut(): void {
    if (this.#finished) return;
    this.#hub.stats.cuts++;
    this.destroy();
  }

  destroy(): void {
    this.#client.destroy();
    this.#upstream?.destroy();
    this.#finish();
  }

  #touch(): void {
    this.#idle?.refresh();
  }

  #count(kind: ExchangeKind): void {
    if (this.#kind) return;
    this.#kind = kind;
    this.#hub.stats.connections[kind]++;
  }

  // ---- client → upstream -------------------------------------------------------------------

  #onClientData(chunk: Buffer): void {
    this.#hub.stats.bytesUp += chunk.length;
    this.#touch();
    if (this.#state === 'done') return;
    if (this.#state !== 'request') {
      if (!this.#dropUp) this.#sendUp(chunk);
      return;
    }
    this.#reqBuf = Buffer.concat([this.#reqBuf, chunk]);
    const end = this.#reqBuf.indexOf(HEAD_END);
    if (end < 0) {
      if (this.#reqBuf.length > MAX_HEAD) this.#reply(431, 'Request Header Fields Too Large');
      return;
    }
    const head = parseHead(this.#reqBuf.subarray(0, end));
    const rest = this.#reqBuf.subarray(end + HEAD_END.length);
    this.#reqBuf = EMPTY;
    if (head) this.#onRequest(head, rest);
    else this.#reply(400, 'Bad Request');
  }

  #onRequest(head: Head, rest: Buffer): void {
    const s = this.#s;
    this.#state = 'response';
    this.#upgrade = /\bwebsocket\b/i.test(getHeader(head, 'upgrade') ?? '');
    if (this.#upgrade) this.#count('ws');
    if (s.kind === 'proxy-auth') {
      return this.#reply(407, 'Proxy Authentication Required', ['Proxy-Authenticate: Basic realm="lab"']);
    }
    if (s.kind === 'refuse-upgrade' && this.#upgrade) {
      if (s.how === '403') return this.#reply(403, 'Forbidden');
      this.#state = 'done';
      if (s.how === 'reset') this.#reset();
      return; // 'hang': keep the socket, read and ignore, never answer
    }
    if (s.kind === 'strip-upgrade' && this.#upgrade) {
      // A proxy that does not know WebSocket: `Upgrade` and the `upgrade` token of `Connection`
      // are hop-by-hop (RFC 9110 §7.6.1), so they go, and the handshake (Sec-WebSocket-Key and
      // all) continues as a plain HTTP/1.1 request. `Connection: close` below replaces the rest.
      setHeader(head, 'upgrade');
      this.#upgrade = false;
      this.#hub.stats.upgradesStripped++;
    }
    if (!this.#upgrade) {
      setHeader(head, 'connection', 'close');
      setHeader(head, 'keep-alive');
      setHeader(head, 'proxy-connection');
    }
    this.#connectUpstream();
    this.#sendUp(serialize(head));
    if (rest.length) this.#sendUp(rest);
  }

  #connectUpstream(): void {
    const { host, port, tls: secure } = this.#hub.upstream;
    // allowHalfOpen reaches TLSSocket at runtime although @types/node does not list it.
    const opts = { host, port, allowHalfOpen: true };
    const up = secure
      ? tls.connect({ ...opts, servername: net.isIP(host) ? undefined : host, rejectUnauthorized: false } as tls.ConnectionOptions)
      : net.connect(opts);
    this.#upstream = up;
    up.setNoDelay(true);
    up.on('data', (c: Buffer) => this.#onUpstreamData(c));
    up.on('end', () => this.#onUpstreamEnd());
    up.on('error', () => {});
    up.on('close', () => this.#onUpstreamClose());
  }

  #onClientEnd(): void {
    this.#clientEnded = true;
    const up = this.#upstream;
    if (up) this.#up.push(() => up.end());
    else this.#endDown(); // nothing upstream to wait for (reply sent, hang, or no request)
  }

  #onClientClose(): void {
    // A close without FIN is a reset: pass it on at once, as TCP would.
    if (!this.#clientEnded) this.#upstream?.destroy();
    if (!this.#upstream || this.#upstreamClosed) this.#finish();
  }

  // ---- upstream → client -------------------------------------------------------------------

  #onUpstreamData(chunk: Buffer): void {
    this.#hub.stats.bytesDown += chunk.length;
    this.#touch();
    if (this.#state !== 'response') return this.#onBody(chunk);
    this.#resBuf = Buffer.concat([this.#resBuf, chunk]);
    for (;;) {
      const end = this.#resBuf.indexOf(HEAD_END);
      if (end < 0) {
        if (this.#resBuf.length > MAX_HEAD) this.#passRaw();
        return;
      }
      const head = parseHead(this.#resBuf.subarray(0, end));
      if (!head) return this.#passRaw();
      const rest = this.#resBuf.subarray(end + HEAD_END.length);
      this.#resBuf = EMPTY;
      const status = Number(head.line.split(' ')[1]);
      if (status === 101 || status < 100 || status >= 200) return this.#onResponse(head, status, rest);
      this.#sendDown(serialize(head)); // interim (100 Continue …): the real answer follows
      this.#resBuf = rest;
    }
  }

  /** Not HTTP we understand: stop interpreting and just relay. */
  #passRaw(): void {
    this.#state = 'body';
    this.#count('http');
    const buf = this.#resBuf;
    this.#resBuf = EMPTY;
    this.#onBody(buf);
  }

  #onResponse(head: Head, status: number, rest: Buffer): void {
    const s = this.#s;
    this.#state = 'body';
    if (status === 101 && this.#upgrade) {
      if (s.kind === 'rewrite-connection') setHeader(head, 'connection', 'keep-alive');
      this.#hub.stats.upgradesPassed++;
      this.#sendDown(serialize(head));
      this.#dropUp = s.kind === 'drop-frames' || s.kind === 'swallow-uplink';
      this.#dropDown = s.kind === 'drop-frames';
      if (rest.length) this.#onBody(rest);
      return;
    }
    const sse = /^\s*text\/event-stream/i.test(getHeader(head, 'content-type') ?? '');
    this.#count(sse ? 'sse' : 'http');
    setHeader(head, 'connection', 'close');
    setHeader(head, 'keep-alive');
    if (sse && s.kind === 'buffer-sse') this.#held = [serialize(head)];
    else this.#sendDown(serialize(head));
    if (rest.length) this.#onBody(rest);
  }

  #onBody(chunk: Buffer): void {
    if (this.#dropDown || chunk.length === 0) return;
    if (this.#held && this.#s.kind === 'buffer-sse') {
      // Batches, not a one-off: a buffering proxy keeps buffering, so every event waits.
      this.#held.push(chunk);
      this.#heldBody += chunk.length;
      if (this.#heldBody >= (this.#s.bytes ?? 65536)) this.#flushHeld();
      return;
    }
    this.#sendDown(chunk);
  }

  #flushHeld(): void {
    if (!this.#held?.length) return;
    this.#sendDown(Buffer.concat(this.#held));
    this.#held = [];
    this.#heldBody = 0;
  }

  #onUpstreamEnd(): void {
    this.#upstreamEnded = true;
    if (this.#state === 'response') {
      if (this.#resBuf.length) this.#passRaw();
      else if (!this.#answered) return this.#reply(502, 'Bad Gateway');
    }
    this.#flushHeld();
    this.#endDown();
  }

  #onUpstreamClose(): void {
    this.#upstreamClosed = true;
    if (!this.#upstreamEnded) {
      // Refused or reset upstream: a 502 if the client has had nothing yet, else a cut.
      if (this.#state === 'response' && !this.#answered) this.#reply(502, 'Bad Gateway');
      else if (this.#state !== 'done') this.#client.destroy(); // 'done': our own reply is on its way
    }
    if (this.#client.destroyed) this.#finish();
  }

  // ---- plumbing ----------------------------------------------------------------------------

  #sendUp(buf: Buffer): void {
    const up = this.#upstream;
    if (up) this.#up.push(() => this.#write(up, this.#client, buf));
  }

  #sendDown(buf: Buffer): void {
    this.#answered = true;
    this.#down.push(() => this.#write(this.#client, this.#upstream, buf));
  }

  #endDown(): void {
    this.#down.push(() => this.#client.end());
  }

  /** Write with backpressure: a slow reader pauses the sender instead of growing our memory. */
  #write(dest: net.Socket, src: net.Socket | undefined, buf: Buffer): void {
    if (dest.destroyed || dest.writableEnded) return;
    if (!dest.write(buf) && src && !src.isPaused()) {
      src.pause();
      dest.once('drain', () => src.resume());
    }
  }

  /** The lab's own answer (refusals, 407, 502): short, and the connection ends after it. */
  #reply(status: number, reason: string, extra: string[] = []): void {
    this.#state = 'done';
    this.#count('http');
    this.#upstream?.destroy();
    const body = `${status} ${reason}\n`;
    const head = [`HTTP/1.1 ${status} ${reason}`, ...extra, 'Content-Type: text/plain',
      `Content-Length: ${body.length}`, 'Connection: close'];
    this.#sendDown(Buffer.from(`${head.join('\r\n')}\r\n\r\n${body}`, 'latin1'));
    this.#endDown();
  }

  /** TCP RST. A TLS socket has no reset of its own, so reset the TCP socket under it. */
  #reset(): void {
    const raw = (this.#client as net.Socket & { _parent?: net.Socket })._parent ?? this.#client;
    try {
      raw.resetAndDestroy();
    } catch {
      raw.destroy();
    }
    this.#client.destroy();
  }

  #finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#up.clear();
    this.#down.clear();
    this.#hub.forget(this);
  }
}

class LabProxy implements Lab {
  readonly #server: net.Server;
  readonly #secure: boolean;
  readonly #hub: Hub;
  readonly #live = new Set<Exchange>();
  readonly #raw = new Set<net.Socket>(); // TCP sockets, including ones still in a TLS handshake
  #scenario: Scenario = { kind: 'pass' };
  #nextCut: (() => number) | undefined;
  #closing: Promise<void> | undefined;

  constructor(opts: LabOptions) {
    this.#secure = !!opts.tls;
    this.#hub = { stats: emptyStats(), upstream: opts.upstream, forget: (x) => this.#live.delete(x) };
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
    // A fresh PRNG per setting, so re-applying a seed replays the same cuts.
    this.#nextCut = s.kind === 'random-cuts' ? cutDelays(s.seed, s.meanMs) : undefined;
    if (opts?.cutExisting) this.cutAll();
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
  return { connections: { ws: 0, sse: 0, http: 0 }, upgradesPassed: 0, upgradesStripped: 0, bytesUp: 0, bytesDown: 0, cuts: 0, plannedCuts: [] };
}

/** Start a lab proxy on 127.0.0.1, on a free port. */
export function startLab(opts: LabOptions): Promise<Lab> {
  return new LabProxy(opts).listen();
}
