import { createServer as httpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as tcpServer, connect as tcpConnect, type AddressInfo, type Socket } from 'node:net';
import { readFileSync } from 'node:fs';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Client, RungName, WirefallError } from '../../src/index';
import { track } from './harness';

/*
 * A hostile server for the client, on every rung (docs/protocol.md §2), on 127.0.0.1: it answers
 * each hello with what a script says, valid or not, and records what the client sends, when. Once
 * told `sane()`, every new TCP connection is piped to a real server instead (its old sockets are
 * cut), so that a test can check what the app sent arrived there once, in order.
 */

/** One thing the hostile server writes on a downlink. */
export type Step =
  /** A transport message: a WebSocket text message, an SSE event (`data: …`), a long-poll answer. */
  | string
  /** Written as it is: WebSocket binary message; SSE and long-poll raw bytes (no event framing). */
  | { raw: string | Buffer }
  /** Waits so many ms before the next step. */
  | { wait: number }
  /** Writes `chunk` for ever (as fast as the client reads): an endless line, comments, answer. */
  | { endless: string | Buffer }
  /** Ends the downlink (WebSocket: close with `code`; HTTP: ends the response). */
  | { end: number };

/** What the script answers: the open's steps, and for long-polling each poll's (by number, from 1). */
export interface Script {
  /** Steps after the hello, on the connection `n` (from 1) of rung `rung`; `hello` as the client sent it. */
  open(n: number, rung: RungName, hello: Record<string, unknown>): Step[];
  /**
   * Long-polling: the answer to poll `p` (from 1) of the open `n`; default: what `reply` queued,
   * at once, else held up to 1 s for it, then `[]`.
   */
  poll?(p: number, n: number): Step[] | undefined;
  /** What to send back (a transport message) for each frame the client sends after its hello. */
  reply?(f: Record<string, unknown>): string | undefined;
  /** Uplink POSTs: the status (default 204). */
  up?(body: string): number;
}

/** What the client sent, with when (ms since the epoch). */
export interface Sent {
  at: number;
  rung: RungName;
  /** `hello`, `up` (WebSocket message after the hello, uplink POST), `poll`. */
  kind: 'hello' | 'up' | 'poll';
  text: string;
}

export const WELCOME = { t: 'welcome', v: 3, sid: 'h1', key: 'k1', hb: 5000, ack: 0, resumed: false, max: 65536 };
export const GREET = '{"t":"greet","v":[3]}';
/** The greeting then a welcome with `extra` fields (`undefined` removes one), as two steps. */
export const welcome = (extra: Record<string, unknown> = {}): Step[] => [GREET, JSON.stringify({ ...WELCOME, ...extra })];

export async function hostileServer(script: Script, realPort?: number) {
  const sent: Sent[] = [];
  const opens: Record<RungName, number> = { wss: 0, ws: 0, sse: 0, longpoll: 0 };
  const polls = new Map<number, number>();
  let sane = false;
  const sockets = new Set<Socket>();
  /** Timers and endless writers stop at cleanup. */
  let stopped = false;
  const timers = new Set<NodeJS.Timeout>();
  const sleep = (ms: number) => new Promise<void>((r) => {
    const t = setTimeout(() => (timers.delete(t), r()), ms);
    timers.add(t);
  });

  /** The live downlink of the last open, where `reply` writes; long-polling: a mailbox for the next poll. */
  let down: ((text: string) => void) | undefined;
  const mailbox: string[] = [];
  let wakePoll: (() => void) | undefined;
  const replyTo = (text: string) => {
    if (!script.reply) return;
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch {
      return;
    }
    for (const f of Array.isArray(v) ? v : [v]) {
      const r = script.reply(f as Record<string, unknown>);
      if (r !== undefined) down?.(r);
    }
  };

  const wss = new WebSocketServer({ noServer: true, maxPayload: 1 << 30 });
  const http = httpServer((req, res) => void handle(req, res));
  http.on('upgrade', (req, socket, head) => wss.handleUpgrade(req, socket, head, (ws) => void socketOf(ws)));

  async function socketOf(ws: WebSocket) {
    ws.on('error', () => {});
    const n = ++opens.ws;
    const first = await new Promise<string | undefined>((r) => {
      ws.once('message', (d) => r(String(d)));
      ws.once('close', () => r(undefined));
    });
    if (first === undefined) return;
    sent.push({ at: Date.now(), rung: 'ws', kind: 'hello', text: first });
    ws.on('message', (d) => (sent.push({ at: Date.now(), rung: 'ws', kind: 'up', text: String(d) }), replyTo(String(d))));
    down = (text) => ws.readyState === 1 && ws.send(text);
    let hello: Record<string, unknown> = {};
    try {
      hello = JSON.parse(first);
    } catch {
      /* not ours to judge */
    }
    for (const step of script.open(n, 'ws', hello)) {
      if (stopped || ws.readyState !== 1) return;
      if (typeof step === 'string') ws.send(step);
      else if ('raw' in step) ws.send(typeof step.raw === 'string' ? Buffer.from(step.raw) : step.raw, { binary: true });
      else if ('wait' in step) await sleep(step.wait);
      else if ('end' in step) return ws.close(step.end);
      else {
        while (!stopped && ws.readyState === 1) {
          await new Promise<void>((r) => ws.send(step.endless, () => r()));
        }
      }
    }
  }

  /** Writes `steps` on an HTTP answer: SSE events or raw text; `sse` frames strings as events. */
  async function write(res: ServerResponse, steps: Step[], sse: boolean) {
    for (const step of steps) {
      if (stopped || res.destroyed) return;
      if (typeof step === 'string') res.write(sse ? `data: ${step}\n\n` : step);
      else if ('raw' in step) res.write(step.raw);
      else if ('wait' in step) await sleep(step.wait);
      else if ('end' in step) return void res.end();
      else {
        while (!stopped && !res.destroyed) if (!res.write(step.endless)) await new Promise((r) => res.once('drain', r).once('close', r));
      }
    }
    // A long-poll answer ends after its steps; an event stream stays open.
    if (!sse && !res.destroyed) res.end();
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString();
    const q = new URL(req.url!, 'http://x').searchParams;
    const rung: RungName = q.get('t') === 'sse' ? 'sse' : 'longpoll';
    // Every answer closes its connection: the next request is a new TCP connection, which `sane()` may route elsewhere.
    res.shouldKeepAlive = false;
    if (q.get('n')) {
      sent.push({ at: Date.now(), rung, kind: 'up', text: body });
      res.writeHead(script.up?.(body) ?? 204).end();
      return replyTo(body.slice(body.indexOf('\n') + 1));
    }
    if (q.get('poll')) {
      sent.push({ at: Date.now(), rung, kind: 'poll', text: body });
      const n = opens.longpoll;
      const p = (polls.get(n) ?? 0) + 1;
      polls.set(n, p);
      res.writeHead(200, { 'content-type': 'application/json' });
      const steps = script.poll?.(p, n);
      if (steps) return write(res, steps, false);
      if (!mailbox.length) await Promise.race([sleep(1000), new Promise<void>((r) => (wakePoll = r))]);
      wakePoll = undefined;
      return void res.end(`[${mailbox.splice(0).map((f) => (f.startsWith('[') ? f.slice(1, -1) : f)).join(',')}]`);
    }
    sent.push({ at: Date.now(), rung, kind: 'hello', text: body });
    let hello: Record<string, unknown> = {};
    try {
      hello = JSON.parse(body);
    } catch {
      /* not ours to judge */
    }
    const n = ++opens[rung];
    const steps = script.open(n, rung, hello);
    down = rung === 'sse' ? (text) => void (!res.destroyed && res.write(`data: ${text}\n\n`)) : (text) => (mailbox.push(text), wakePoll?.());
    if (rung === 'sse') {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      return write(res, steps, true);
    }
    // Long-polling: the open's answer is one body, the steps' strings joined into one batch
    // when they are frames (strings), raw otherwise.
    res.writeHead(200, { 'content-type': 'application/json' });
    const frames = steps.filter((s): s is string => typeof s === 'string');
    const rest = steps.filter((s) => typeof s !== 'string');
    if (frames.length) res.write(`[${frames.map((f) => (f.startsWith('[') ? f.slice(1, -1) : f)).join(',')}]`);
    return write(res, rest, false);
  }

  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const hostilePort = (http.address() as AddressInfo).port;
  // The front: each TCP connection goes to the hostile server, or once `sane()`, to the real one.
  const front = tcpServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => {});
    const up = tcpConnect(sane ? realPort! : hostilePort, '127.0.0.1');
    up.on('error', () => sock.destroy());
    sock.on('close', () => up.destroy());
    up.on('close', () => sock.destroy());
    sock.pipe(up).pipe(sock);
  });
  await new Promise<void>((r) => front.listen(0, '127.0.0.1', r));
  const port = (front.address() as AddressInfo).port;
  track({
    close: () =>
      new Promise<void>((r) => {
        stopped = true;
        for (const t of timers) clearTimeout(t);
        for (const s of sockets) s.destroy();
        for (const ws of wss.clients) ws.terminate();
        http.closeAllConnections();
        http.close();
        front.close(() => r());
      }),
  });
  return {
    url: `http://127.0.0.1:${port}/wirefall`,
    sent,
    opens,
    /** From now on every connection goes to the real server; those open now are cut. */
    sane() {
      sane = true;
      for (const s of sockets) s.destroy();
    },
  };
}

/**
 * A `reply` that answers pings with pongs and (unless `ack` is false) acknowledges messages:
 * enough of a server to keep a link alive.
 */
export function alive(ack = true): (f: Record<string, unknown>) => string | undefined {
  let acked = 0;
  return (f) => {
    if (f.t === 'ping' && !f.q) return JSON.stringify({ t: 'pong', n: f.n });
    const s = f.t === 'msg' ? (f.s as number) : f.t === 'run' ? (f.s as number) + (f.d as unknown[]).length - 1 : 0;
    if (ack && s > acked) return JSON.stringify({ t: 'ack', a: (acked = s) });
    return undefined;
  };
}

/** The codes docs/errors.md documents. */
export const DOCUMENTED = new Set(
  [...readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8').matchAll(/^\| `(WF_[A-Z_]+)`/gm)].map((m) => m[1]!),
);

/**
 * Watches a test: what reaches `process` as uncaught, and the client's errors. `check()` asserts
 * nothing escaped and every error carries a documented code.
 */
export function watch(c: Client) {
  const escaped: unknown[] = [];
  const onError = (e: unknown) => escaped.push(e);
  process.on('uncaughtException', onError);
  process.on('unhandledRejection', onError);
  track({
    close: () => {
      process.off('uncaughtException', onError);
      process.off('unhandledRejection', onError);
    },
  });
  const errors: WirefallError[] = [];
  c.on('error', (e) => errors.push(e));
  return { escaped, errors, codes: () => errors.map((e) => e.code) };
}

/** The client's frames among `sent` (hellos, uplink messages; polls carry none), flattened. */
export function framesOf(sent: readonly Sent[]): { at: number; f: Record<string, unknown> }[] {
  const out: { at: number; f: Record<string, unknown> }[] = [];
  for (const s of sent) {
    if (s.kind === 'poll') continue;
    // An uplink POST is the key line, then the frames (docs/protocol.md §2.2).
    const text = s.kind === 'up' && s.rung !== 'ws' ? s.text.slice(s.text.indexOf('\n') + 1) : s.text;
    try {
      const v = JSON.parse(text) as unknown;
      for (const f of Array.isArray(v) ? v : [v]) out.push({ at: s.at, f: f as Record<string, unknown> });
    } catch {
      /* binary or garbage: not counted */
    }
  }
  return out;
}

/** The most items whose `at` falls within any window of `ms`. */
export function peak(ats: readonly number[], ms = 1000): number {
  const a = [...ats].sort((x, y) => x - y);
  let best = 0;
  for (let i = 0, j = 0; j < a.length; j++) {
    while (a[j]! - a[i]! >= ms) i++;
    best = Math.max(best, j - i + 1);
  }
  return best;
}
