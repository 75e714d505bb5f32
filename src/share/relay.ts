/**
 * The leader's side: the one real client, made with a session tap so that every tab learns each
 * send's number before it is written, each server message with its number, and the session id.
 * Any client method a tab calls arrives here as a `call` and runs on the real client; its result
 * goes back to the tab that asked. `send` only adds the mirroring around the same path, so a
 * method added to Client later (request/reply) is relayed without a change here.
 */
import type { Client } from '../core/client';
import type { SessionTap } from '../core/session-tap';
import type { Mirror } from './mirror';
import { errorShape, type MirrorEntry, type Snapshot, type TabMessage } from './tab-protocol';

export interface RelayHost {
  /** Sends to every other tab and applies in this one. */
  post(m: TabMessage): void;
  make(tap: SessionTap): Client;
  mirror: Mirror;
  received: number;
}

export class Relay {
  readonly client: Client;
  readonly seeded: MirrorEntry[];
  #host: RelayHost;
  #origin: { from: string; id: number } | undefined;
  #numbers = new Map<string, number>();
  /** Set while handing over: what the closing client rejects is not the tabs' business any more. */
  #leaving = false;
  #high = false;
  #stops: (() => void)[] = [];

  constructor(host: RelayHost) {
    this.#host = host;
    const planned = host.mirror.seed(host.received);
    this.seeded = planned?.entries ?? [];
    const tap: SessionTap = {
      seed: planned?.seed,
      seeded: (promises) => promises.forEach((p, i) => this.#route(p, this.seeded[i]!.from, this.seeded[i]!.id, this.seeded[i]!.s)),
      assigned: (s, ev, payload) => {
        const o = this.#origin;
        if (!o) return; // a method of the client that sends by itself: not a tab's send to route
        this.#numbers.set(`${o.from}/${o.id}`, s);
        host.post({ t: 'assigned', e: { s, ev, payload, from: o.from, id: o.id } });
      },
      delivered: (s, ev, d) => host.post({ t: 'msg', s, ev, d }),
      welcomed: (sid, key, resumed) => {
        const lost = !resumed && !!host.mirror.session && host.mirror.session.sid !== sid;
        host.post({ t: 'session', sid, key });
        // The outbox renumbers what it never wrote once the rejections of the rest settled.
        if (lost) void Promise.resolve().then(() => Promise.resolve()).then(() => host.post({ t: 'renumber' }));
      },
      keepSession: () => this.#leaving,
    };
    const c = (this.client = host.make(tap));
    const snap = () => host.post({ t: 'state', snap: this.snapshot() });
    this.#stops.push(
      c.on('state', snap),
      c.on('error', (e) => host.post({ t: 'event', name: 'error', args: [errorShape(e)] })),
      c.on('sessionlost', (u) => host.post({ t: 'event', name: 'sessionlost', args: [u] })),
      c.on('backpressure', (high, bytes) => {
        this.#high = high;
        host.post({ t: 'event', name: 'backpressure', args: [high, bytes] });
      }),
    );
  }

  snapshot(): Snapshot {
    const c = this.client;
    return { state: c.state, rung: c.rung, attempts: [...c.attempts], rtt: c.rtt, high: this.#high };
  }

  /** Runs a tab's call on the real client and routes the result back to it. */
  call(m: Extract<TabMessage, { t: 'call' }>): void {
    const c = this.client as unknown as Record<string, unknown>;
    const fn = c[m.method];
    if (typeof fn !== 'function' || m.method === 'close' || m.method === 'on' || m.method === 'subscribe') {
      return this.#host.post({ t: 'done', to: m.from, id: m.id, ok: false, error: { code: 'WF_INVALID', message: `"${m.method}" cannot be relayed` } });
    }
    let result: unknown;
    this.#origin = { from: m.from, id: m.id };
    try {
      result = (fn as (...a: unknown[]) => unknown).apply(this.client, m.args);
    } catch (e) {
      result = Promise.reject(e);
    } finally {
      this.#origin = undefined;
    }
    const key = `${m.from}/${m.id}`;
    const s = this.#numbers.get(key);
    this.#numbers.delete(key);
    this.#route(Promise.resolve(result), m.from, m.id, s);
  }

  #route(p: Promise<unknown>, to: string, id: number, s: number | undefined): void {
    p.then(
      (value) => !this.#leaving && this.#host.post({ t: 'done', to, id, s, ok: true, value }),
      (e: unknown) => !this.#leaving && this.#host.post({ t: 'done', to, id, s, ok: false, error: errorShape(e) }),
    );
  }

  /**
   * Stops the real client. `handOver`: the session stays for the next leader (close 1001), and
   * unacknowledged sends stay in every tab's mirror instead of failing.
   */
  stop(handOver: boolean): void {
    this.#leaving = handOver;
    for (const s of this.#stops.splice(0)) s();
    this.client.close();
  }
}
