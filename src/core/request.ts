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
  /** Reject with `WF_TIMEOUT` when no reply came within this many ms (`Infinity`: never). Default 30000. */
  timeout?: number | undefined;
}

/** The client's calls in flight: `request`, and `end` (the session was lost, or the client closed). */
export interface Requests {
  request(name: string, args: unknown, options?: RequestOptions): Promise<unknown>;
  /**
   * No reply will come: with `WF_SESSION_LOST` to the calls the lost session had acknowledged
   * (their handler may have run; the others are resent on the new session), with `WF_CLOSED` to all.
   */
  end(closed: boolean): void;
}

/**
 * The client's calls in flight. A call is an ordinary message (`$call`), so the outbox numbers,
 * resends and de-duplicates it: the server's handler runs once. Its reply is an ordinary message
 * back (`$reply`), delivered once. What can still go wrong is said with a code: the app's own
 * error (`WF_REQUEST_FAILED` with `remoteCode`), no reply in time (`WF_TIMEOUT`), the session
 * lost before the reply (`WF_SESSION_LOST`: the handler may have run), the client closed.
 * A closure, not a class: the client bundle pays for every `this.#field` (scripts/size.mjs).
 */
export function requests(clock: Clock, handlers: Subscribers, send: (type: string, data: Encoded) => Promise<void>): Requests {
  let next = 1;
  /** Per call id: how to settle it, marked `acked` once the server acknowledged the call (its handler runs or ran). */
  const pending = new Map<number, Settle>();
  handlers.on(REPLY, (d) => {
    const r = readReply(d);
    // A reply to a call that timed out, or to one of a previous page life, finds nothing.
    pending.get(r?.id!)?.(r!.err && new WirefallError('WF_REQUEST_FAILED', r!.err.message || r!.err.code, { remoteCode: r!.err.code }), r!.r);
  });
  return {
    request: (name, args, options = {}) =>
      new Promise((resolve, reject) => {
        if (typeof name !== 'string' || !name) throw new WirefallError('WF_INVALID', DEV ? 'a request needs a name' : '');
        const encoded = encodeCall(next, name, encodeData(args, name));
        const id = next++;
        const timeout = options.timeout ?? 30_000;
        const timer = clock.setTimeout(() => settle(new WirefallError('WF_TIMEOUT', DEV ? `"${name}": no reply within ${timeout} ms` : '')), timeout);
        const settle: Settle = (err, reply) => {
          pending.delete(id);
          clock.clearTimeout(timer);
          if (err) reject(err);
          else resolve(reply);
        };
        pending.set(id, settle);
        send(CALL, encoded).then(() => void (settle.acked = true), settle);
      }),
    end(closed) {
      // A Map's iteration survives the deletion of the entry it is at: no copy needed.
      for (const settle of pending.values())
        if (closed || settle.acked)
          settle(new WirefallError(closed ? 'WF_CLOSED' : 'WF_SESSION_LOST', DEV ? (closed ? 'client closed before the reply' : 'session lost before the reply; the handler may have run') : ''));
    },
  };
}

/** Settles a call: with an error, or with the reply. */
type Settle = ((err: WirefallError | undefined, reply?: unknown) => void) & { acked?: boolean };
