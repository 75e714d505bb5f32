/**
 * A client that shares one connection with the other tabs of its origin. Every tab runs one;
 * the tab holding the lock (./election) is the leader and runs the real client (./relay), the
 * others relay their calls to it and hear its messages and events over a BroadcastChannel. The
 * public surface is the Client's: `send` resolves on the server's ack in the tab that sent,
 * `subscribe` hears in every tab, `state`/`rung`/`attempts`/events describe the shared connection.
 * This file is that surface; the tab's part in the group (joining, hearing, leading, leaving) is
 * ./member's.
 */
import type { AttemptRecord } from '../core/attempt';
import type { ClientEvents, ClientRole, ConnectionState } from '../core/client-types';
import type { ShareContext } from '../core/session-tap';
import { resolveTimings } from '../core/options';
import type { ApiShape, AnyApi, RungName } from '../protocol/api';
import { WirefallError } from '../protocol/errors';
import { emitter, type Emitter } from '../util/emitter';
import { Calls } from './calls';
import { View } from './view';
import { member, type Member } from './member';

export { SYNC_MS } from './member';

export class SharedClient<Api extends ApiShape = AnyApi> {
  readonly tab: string;
  #calls: Calls;
  #events: Emitter<ClientEvents> = emitter((cause, event) => {
    if (event !== 'error') this.#events.emit('error', new WirefallError('WF_INVALID', `a "${event}" listener threw`, { cause }));
  });
  #handlers = emitter<Record<string, (data: unknown) => void>>((cause, type) => this.#events.emit('error', new WirefallError('WF_INVALID', `a "${String(type)}" subscriber threw`, { cause })));
  #view = new View(this.#events);
  /** This tab in the group (./member): what it hears moves the calls, the view and the handlers above. */
  #member: Member;
  #unleave: () => void;

  constructor(ctx: ShareContext, name: string) {
    const { platform } = ctx;
    this.tab = platform.nonce();
    this.#calls = new Calls(resolveTimings(ctx.options));
    // A leader that is unloaded or frozen hands over at once, rather than after the browser notices.
    this.#unleave =
      platform.onLeave?.((reason) =>
        reason === 'pagehide' ? this.close() : reason === 'cached' ? this.#member.suspend() : reason === 'restored' ? this.#member.restore() : this.#member.resign(true),
      ) ?? (() => {});
    this.#member = member(ctx, name, this.tab, this.#calls, this.#view, this.#handlers, this.#events);
  }

  get role(): ClientRole {
    return this.#member.relay ? 'leader' : 'follower';
  }
  get state(): ConnectionState {
    return this.#member.closed ? 'closed' : this.#view.snap.state;
  }
  get rung(): RungName | null {
    return this.#member.closed ? null : this.#view.snap.rung;
  }
  get attempts(): readonly AttemptRecord[] {
    return this.#view.snap.attempts;
  }
  get rtt(): number | undefined {
    const relay = this.#member.relay;
    return relay ? relay.client.rtt : this.#view.snap.rtt;
  }
  /** The shared outbox: every tab's sends that await the server's ack. */
  get buffered(): { messages: number; bytes: number } {
    const { mirror } = this.#member;
    return { messages: mirror.size, bytes: mirror.bytes };
  }

  send<K extends keyof Api['client'] & string>(type: K, data: Api['client'][K]): Promise<void> {
    return this.call('send', [type, data]) as Promise<void>;
  }

  /**
   * Runs any client method on the shared connection, in the leader tab, and resolves with its
   * result here. This is how every method reaches the connection (`send`; not `request`, whose
   * result a hand-over would change: see `request`).
   */
  call(method: string, args: unknown[]): Promise<unknown> {
    const member = this.#member;
    if (member.closed) return Promise.reject(new WirefallError('WF_CLOSED', 'client closed'));
    return this.#calls.add(method, args, member.submit, !member.relay);
  }

  /**
   * Not relayed between tabs (docs/sharing.md, "Limits"): it rejects with `WF_INVALID`. Through the
   * leader's client, a call made before a hand-over would settle with its message's ack instead
   * of its reply, and call ids would repeat across leaders.
   */
  request(): Promise<never> {
    return Promise.reject(new WirefallError('WF_INVALID', 'request() is not available on a shared client (docs/sharing.md)'));
  }

  subscribe<K extends keyof Api['server'] & string>(type: K, handler: (data: Api['server'][K]) => void): () => void {
    return this.#handlers.on(type, handler as (data: unknown) => void);
  }

  on<E extends keyof ClientEvents>(event: E, listener: ClientEvents[E]): () => void {
    return this.#events.on(event, listener);
  }

  whenWritable(): Promise<void> {
    // Closed: nothing is buffered any more (close() rejected it), whatever the last snapshot said.
    return this.#view.whenWritable(this.#member.closed);
  }

  /**
   * Closes this tab's client. A leader hands the connection to another tab when there is one
   * (the session stays); the last tab ends the session, as a solo client's close does.
   */
  close(): void {
    if (this.#member.closed) return;
    this.#member.close();
    this.#unleave();
    this.#calls.rejectAll(new WirefallError('WF_CLOSED', 'client closed before the server acknowledged'));
    this.#view.release();
    this.#events.emit('state', 'closed', null);
  }
}
