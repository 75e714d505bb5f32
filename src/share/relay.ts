/**
 * The leader's side: the one real client, made with a session tap so that every tab learns each
 * send's number before it is written, each server message with its number, and the session id.
 * Any client method a tab calls arrives here as a `call` and runs on the real client; its result
 * goes back to the tab that asked. `send` only adds the mirroring around the same path, so a
 * method added to Client later is relayed without a change here (not `request`: see `call`).
 */
import type { Client } from '../core/client';
import type { Clock } from '../platform';
import type { SessionTap } from './tap';
import type { Mirror } from './mirror';
import { errorShape, type MirrorEntry, type Snapshot, type TabMessage } from './tab-protocol';

/**
 * How long the leader holds another tab's send unwritten waiting for that tab's `confirm` (one
 * channel hop there and back, normally well under 10 ms). A tab that closed releases its sends
 * at once (`leave`); one that died without a word (a crashed renderer) stalls the sends behind
 * its own for this long, then they are written anyway (docs/sharing.md, "Limits").
 */
export const HOLD_MS = 1000;

export interface RelayHost {
  /** This tab: its own sends are written without waiting for a confirmation. */
  tab: string;
  clock: Clock;
  /** Sends to every other tab and applies in this one. */
  post(m: TabMessage): void;
  make(tap: SessionTap): Client;
  mirror: Mirror;
  received: number;
}

export class Relay {
  readonly client: Client;
  readonly seeded: MirrorEntry[];
  /** No session to resume: the client starts a new one, and no send has a number yet. */
  readonly fresh: boolean;
  #host: RelayHost;
  #origin: { from: string; id: number } | undefined;
  /** The current number of each relayed send (`from/id` → s) until it settles, and back. */
  #numbers = new Map<string, number>();
  #keys = new Map<number, string>();
  /** Set while handing over: what the closing client rejects is not the tabs' business any more. */
  #leaving = false;
  #high = false;
  #stops: (() => void)[] = [];
  /** Other tabs' sends held unwritten until their tab confirms the number (`from/id`). */
  #holds = new Map<string, { from: string; release: () => void; timer: unknown }>();

  constructor(host: RelayHost) {
    this.#host = host;
    const planned = host.mirror.seed(host.received);
    this.seeded = planned?.entries ?? [];
    // The old leader numbered sends before any welcome (it closed or died first): those numbers
    // belong to no session, and nothing was written. The tabs submit those calls again.
    if ((this.fresh = !planned)) host.mirror.clear();
    const tap: SessionTap = {
      seed: planned?.seed,
      seeded: (promises) =>
        promises.forEach((p, i) => {
          const e = this.seeded[i]!;
          this.#number(e.from, e.id, e.s);
          this.#route(p, e.from, e.id);
        }),
      assigned: (s, ev, payload, enc, hold, n) => {
        const o = this.#origin;
        if (!o) return; // a method of the client that sends by itself: not a tab's send to route
        this.#number(o.from, o.id, s);
        // Another tab's send is written only once that tab knows its number: were this tab to die
        // between writing it and that tab hearing `assigned`, the tab would submit it again.
        if (o.from !== host.tab) {
          const key = `${o.from}/${o.id}`;
          const timer = host.clock.setTimeout(() => this.confirmed(o.from, o.id), HOLD_MS);
          this.#holds.set(key, { from: o.from, release: hold(), timer });
        }
        host.post({ t: 'assigned', e: { s, ev, payload, ...(enc && { enc }), n, from: o.from, id: o.id } });
      },
      // The resumed welcome settled the numbers: every mirror (and the `done` routing) follows
      // before the client writes any of them, so a later hand-over resumes with these numbers.
      renumbered: (moved, ack) => {
        // All at once: one send's new number may be another's old one.
        const keys = moved.map(({ from }) => this.#keys.get(from));
        moved.forEach(({ from }) => this.#keys.delete(from));
        moved.forEach(({ to }, i) => {
          const key = keys[i];
          if (key !== undefined) this.#numbers.set(key, to), this.#keys.set(to, key);
        });
        host.post({ t: 'renumbered', moved, ack });
      },
      delivered: (s, ev, d) => host.post({ t: 'msg', s, ev, d }),
      welcomed: (sid, key, resumed) => {
        const lost = !resumed && !!host.mirror.session && host.mirror.session.sid !== sid;
        host.post({ t: 'session', sid, key, resumed });
        // The outbox renumbered what it never wrote from 1 (Outbox.restart); once the rejections
        // of the rest settled (and left the routing), the routing and every mirror do the same.
        if (lost)
          void Promise.resolve()
            .then(() => Promise.resolve())
            .then(() => {
              this.#renumberFromOne();
              host.post({ t: 'renumber' });
            });
      },
      keepSession: () => this.#leaving,
    };
    const c = (this.client = host.make(tap));
    const snap = () => host.post({ t: 'state', snap: this.snapshot() });
    this.#stops.push(
      c.on('state', snap),
      c.on('attempt', (a) => host.post({ t: 'attempt', a, attempts: [...c.attempts] })),
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
    // `request`: after a hand-over its seeded `$call` would settle it with the ack, not the reply.
    if (typeof fn !== 'function' || m.method === 'close' || m.method === 'on' || m.method === 'subscribe' || m.method === 'request') {
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
    this.#route(Promise.resolve(result), m.from, m.id);
  }

  /** Tab `from` knows the number of its call `id` (or it has gone, or the hold timed out): write it. */
  confirmed(from: string, id: number): void {
    const key = `${from}/${id}`;
    const h = this.#holds.get(key);
    if (!h) return;
    this.#holds.delete(key);
    this.#host.clock.clearTimeout(h.timer);
    h.release();
  }

  /**
   * Tab `tab` closed: nobody will submit its calls again, so its held sends are written now
   * rather than after the deadline (it rejected their promises with WF_CLOSED: maybe delivered).
   */
  left(tab: string): void {
    for (const [key, h] of [...this.#holds]) if (h.from === tab) this.confirmed(tab, Number(key.slice(tab.length + 1)));
  }

  #number(from: string, id: number, s: number): void {
    const key = `${from}/${id}`;
    this.#numbers.set(key, s);
    this.#keys.set(s, key);
  }

  /** The sends still routed are the ones a new session kept: numbered 1 onwards, in their order, as the outbox did. */
  #renumberFromOne(): void {
    const kept = [...this.#numbers].sort((a, b) => a[1] - b[1]);
    this.#numbers.clear();
    this.#keys.clear();
    kept.forEach(([key], i) => (this.#numbers.set(key, i + 1), this.#keys.set(i + 1, key)));
  }

  /** Answers the asking tab; a send's `done` carries its number as it is when it settles. */
  #route(p: Promise<unknown>, to: string, id: number): void {
    const settled = (): number | undefined => {
      const key = `${to}/${id}`;
      const s = this.#numbers.get(key);
      this.#numbers.delete(key);
      if (s !== undefined && this.#keys.get(s) === key) this.#keys.delete(s);
      return s;
    };
    p.then(
      (value) => !this.#leaving && this.#host.post({ t: 'done', to, id, s: settled(), ok: true, value }),
      (e: unknown) => !this.#leaving && this.#host.post({ t: 'done', to, id, s: settled(), ok: false, error: errorShape(e) }),
    );
  }

  /**
   * Stops the real client. `handOver`: the session stays for the next leader (close 1001), and
   * unacknowledged sends stay in every tab's mirror instead of failing.
   */
  stop(handOver: boolean): void {
    this.#leaving = handOver;
    // Held sends stay unwritten: they are in every mirror, and the next leader resends them.
    for (const h of this.#holds.values()) this.#host.clock.clearTimeout(h.timer);
    this.#holds.clear();
    for (const s of this.#stops.splice(0)) s();
    this.client.close();
  }
}
