import type net from 'node:net';
import { bufferBody, gzipResponse, type BodyFilter } from './body-filters';
import { DelayLine } from './delay-line';
import { closeAfter, EMPTY, formatReply, getHeader, HEAD_END, MAX_HEAD, parseHead, serialize, setHeader, stripUpgrade, type Head } from './http-head';
import { connectTo, relay, resetSocket } from './sockets';
import type { ExchangeKind, LabOptions, LabStats } from './proxy';
import { afterUpgrade, REASONS, requestKind, requestVerdict, type Reply, type RequestKind, type Scenario } from './scenarios';

/** What an exchange needs from its lab; the lab's own fields stay private. */
export interface Hub {
  stats: LabStats;
  upstream: LabOptions['upstream'];
  forget(x: Exchange): void;
  /** Counts a request of this kind under the current scenario; returns its number, from 1. */
  nth(kind: RequestKind): number;
  /** connection-limit: calls `go` once this exchange may use a connection (now, or when one frees). */
  slot(x: Exchange, go: () => void): void;
}

/** One client connection and its upstream connection, under one scenario fixed at accept. */
export class Exchange {
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
  #filter: BodyFilter | undefined; // buffer-sse, gzip-sse: what the body goes through
  #fault: number | undefined; // gateway-error: the status that replaces the upstream's answer
  #gzipOk = false; // the request accepted gzip
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
    if (scenario.kind === 'response-timeout') this.#timers.push(setTimeout(() => !this.#upgraded() && this.cut(), scenario.ms));
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
      if (this.#reqBuf.length > MAX_HEAD) this.#reply({ status: 431, reason: 'Request Header Fields Too Large' });
      return;
    }
    const head = parseHead(this.#reqBuf.subarray(0, end));
    const rest = this.#reqBuf.subarray(end + HEAD_END.length);
    this.#reqBuf = EMPTY;
    if (head) this.#onRequest(head, rest);
    else this.#reply({ status: 400, reason: 'Bad Request' });
  }

  #onRequest(head: Head, rest: Buffer): void {
    this.#state = 'response';
    this.#upgrade = /\bwebsocket\b/i.test(getHeader(head, 'upgrade') ?? '');
    if (this.#upgrade) this.#count('ws');
    this.#gzipOk = /\bgzip\b/i.test(getHeader(head, 'accept-encoding') ?? '');
    const [method = '', target = ''] = head.line.split(' ');
    const kind = requestKind(method, target, this.#upgrade);
    const verdict = requestVerdict(this.#s, kind, this.#hub.nth(kind));
    if (verdict.reply) return this.#reply(verdict.reply);
    if ((this.#fault = verdict.fault)) this.#hub.stats.faults++;
    if (verdict.drop) {
      this.#state = 'done';
      if (verdict.drop === 'reset') resetSocket(this.#client);
      return; // 'hang': keep the socket, read and ignore, never answer
    }
    if (verdict.strip) {
      // A proxy that does not know WebSocket: the handshake continues as a plain request.
      stripUpgrade(head);
      this.#upgrade = false;
      this.#hub.stats.upgradesStripped++;
    }
    if (!this.#upgrade) closeAfter(head, 'proxy-connection');
    // A browser's pool: the request waits, unsent, for a free connection (upgrades were refused).
    const go = () => {
      this.#connectUpstream();
      this.#sendUp(serialize(head));
      if (rest.length) this.#sendUp(rest);
    };
    if (this.#s.kind === 'connection-limit') this.#hub.slot(this, go);
    else go();
  }

  #connectUpstream(): void {
    this.#upstream = connectTo(this.#hub.upstream, {
      data: (c) => this.#onUpstreamData(c), end: () => this.#onUpstreamEnd(), close: () => this.#onUpstreamClose(),
    });
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
    if (this.#fault) return this.#reply({ status: this.#fault, reason: REASONS[this.#fault] ?? 'Error' });
    this.#state = 'body';
    if (status === 101 && this.#upgrade) {
      const after = afterUpgrade(s);
      if (after.rewrite) setHeader(head, 'connection', 'keep-alive');
      this.#hub.stats.upgradesPassed++;
      this.#sendDown(serialize(head));
      this.#dropUp = after.dropUp;
      this.#dropDown = after.dropDown;
      if (rest.length) this.#onBody(rest);
      return;
    }
    const sse = /^\s*text\/event-stream/i.test(getHeader(head, 'content-type') ?? '');
    this.#count(sse ? 'sse' : 'http');
    closeAfter(head);
    const down = (b: Buffer) => this.#sendDown(b);
    if (sse && s.kind === 'gzip-sse' && this.#gzipOk && !getHeader(head, 'content-encoding')) {
      this.#hub.stats.gzipped++;
      this.#filter = gzipResponse(head, s.flush, down);
    }
    if (sse && s.kind === 'buffer-sse') this.#filter = bufferBody(s.bytes ?? 65536, serialize(head), down);
    else this.#sendDown(serialize(head));
    if (rest.length) this.#onBody(rest);
  }

  #onBody(chunk: Buffer): void {
    if (this.#dropDown || chunk.length === 0) return;
    if (this.#filter) this.#filter.write(chunk);
    else this.#sendDown(chunk);
  }

  /** Connected and past a `101`: a WebSocket, which response timeouts leave alone. */
  #upgraded(): boolean {
    return this.#upgrade && this.#state === 'body';
  }

  #onUpstreamEnd(): void {
    this.#upstreamEnded = true;
    if (this.#state === 'response') {
      if (this.#resBuf.length) this.#passRaw();
      else if (!this.#answered) return this.#reply({ status: 502, reason: 'Bad Gateway' });
    }
    if (this.#filter) this.#filter.end(() => this.#endDown());
    else this.#endDown();
  }

  #onUpstreamClose(): void {
    this.#upstreamClosed = true;
    if (!this.#upstreamEnded) {
      // Refused or reset upstream: a 502 if the client has had nothing yet, else a cut.
      if (this.#state === 'response' && !this.#answered) this.#reply({ status: 502, reason: 'Bad Gateway' });
      else if (this.#state !== 'done') this.#client.destroy(); // 'done': our own reply is on its way
    }
    if (this.#client.destroyed) this.#finish();
  }

  // ---- plumbing ----------------------------------------------------------------------------

  #sendUp(buf: Buffer): void {
    const up = this.#upstream;
    if (up) this.#up.push(() => relay(up, this.#client, buf));
  }

  #sendDown(buf: Buffer): void {
    this.#answered = true;
    this.#down.push(() => relay(this.#client, this.#upstream, buf));
  }

  #endDown(): void {
    this.#down.push(() => this.#client.end());
  }

  /** The lab's own answer (refusals, 407, 502, a portal's page): the connection ends after it. */
  #reply(r: Reply): void {
    this.#state = 'done';
    this.#count('http');
    this.#upstream?.destroy();
    this.#sendDown(formatReply(r));
    this.#endDown();
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
