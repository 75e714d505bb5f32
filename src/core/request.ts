import { DEV } from '../dev';
import { encodeData } from '../protocol/data';
import { WirefallError } from '../protocol/errors';
import { CALL, encodeCall, readReply, REPLY } from '../protocol/rpc';
import type { Clock } from '../platform';
import type { Encoded } from '../protocol/data';
import type { Subscribers } from './live-link';

export type { ArgOf, ReplyOf, RpcOf } from '../protocol/rpc';
export type { Encoded };

/** Options of `client.request()`. */
export interface RequestOptions {
  /** Reject with `WF_TIMEOUT` when no reply came within this many ms. Default 30000. */
  timeout?: number;
}

interface Pending {
  resolve: (reply: unknown) => void;
  reject: (err: WirefallError) => void;
  timer: unknown;
  /** The server acknowledged the call: its handler runs (or ran) on the session. */
  acked: boolean;
}

/**
 * The client's calls in flight. A call is an ordinary message (`$call`), so the outbox numbers,
 * resends and de-duplicates it: the server's handler runs once. Its reply is an ordinary message
 * back (`$reply`), delivered once. What can still go wrong is said with a code: the app's own
 * error (`WF_REQUEST_FAILED` with `remoteCode`), no reply in time (`WF_TIMEOUT`), the session
 * lost before the reply (`WF_SESSION_LOST`: the handler may have run), the client closed.
 */
export class Requests {
  #next = 1;
  #pending = new Map<number, Pending>();
  #clock: Clock;
  #send: (type: string, data: Encoded) => Promise<void>;

  constructor(clock: Clock, handlers: Subscribers, send: (type: string, data: Encoded) => Promise<void>) {
    this.#clock = clock;
    this.#send = send;
    handlers.on(REPLY, (d) => this.#reply(d));
  }

  request(name: string, args: unknown, options: RequestOptions = {}): Promise<unknown> {
    let encoded: Encoded;
    try {
      if (typeof name !== 'string' || !name) throw new WirefallError('WF_INVALID', DEV ? 'a request needs a name' : '');
      encoded = encodeCall(this.#next, name, encodeData(args, name));
    } catch (err) {
      return Promise.reject(err);
    }
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      const timeout = options.timeout ?? 30_000;
      const timer = this.#clock.setTimeout(() => this.#settle(id, new WirefallError('WF_TIMEOUT', DEV ? `"${name}": no reply within ${timeout} ms` : '')), timeout);
      const p: Pending = { resolve, reject, timer, acked: false };
      this.#pending.set(id, p);
      this.#send(CALL, encoded).then(
        () => void (p.acked = true),
        (err: WirefallError) => this.#settle(id, err),
      );
    });
  }

  /** The session was lost: replies to calls it had acknowledged will never come. */
  sessionLost(): void {
    for (const [id, p] of this.#pending) if (p.acked) this.#settle(id, new WirefallError('WF_SESSION_LOST', DEV ? 'session lost before the reply; the handler may have run' : ''));
  }

  /** The client closed: no reply will come. */
  closed(): void {
    for (const id of [...this.#pending.keys()]) this.#settle(id, new WirefallError('WF_CLOSED', DEV ? 'client closed before the reply' : ''));
  }

  #reply(d: unknown): void {
    const r = readReply(d);
    if (!r) return;
    if (!r.err) return this.#settle(r.id, undefined, r.r);
    this.#settle(r.id, new WirefallError('WF_REQUEST_FAILED', r.err.message || r.err.code, { remoteCode: r.err.code }));
  }

  #settle(id: number, err: WirefallError | undefined, reply?: unknown): void {
    const p = this.#pending.get(id);
    if (!p) return; // timed out before, or a reply to a call of a previous page life
    this.#pending.delete(id);
    this.#clock.clearTimeout(p.timer);
    if (err) p.reject(err);
    else p.resolve(reply);
  }
}

