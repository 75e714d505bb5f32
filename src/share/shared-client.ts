/**
 * A client that shares one connection with the other tabs of its origin. Every tab runs one;
 * the tab holding the lock (./election) is the leader and runs the real client (./relay), the
 * others relay their calls to it and hear its messages and events over a BroadcastChannel. The
 * public surface is the Client's: `send` resolves on the server's ack in the tab that sent,
 * `subscribe` hears in every tab, `state`/`rung`/`attempts`/events describe the shared connection.
 */
import type { AttemptRecord } from '../core/attempt';
import type { Client } from '../core/client';
import type { ClientEvents, ClientRole, ConnectionState } from '../core/client-types';
import type { ShareContext } from '../core/session-tap';
import { resolveTimings } from '../core/options';
import type { ApiShape, AnyApi, RungName } from '../protocol/api';
import { WirefallError } from '../protocol/errors';
import type { ChannelLike } from '../platform';
import { emitter, type Emitter } from '../util/emitter';
import { tapHook } from './tap';
import { Election } from './election';
import { Mirror } from './mirror';
import { Relay } from './relay';
import { Calls, uncloned } from './calls';
import { receiver } from './tab-check';
import { View } from './view';
import { reconcile } from './back';
import { tabs, type Tabs } from './tabs';
import { errorShape, type MirrorState, type TabMessage } from './tab-protocol';

/** How long a new leader listens for what the other tabs know before resuming. */
export const SYNC_MS = 100;

export class SharedClient<Api extends ApiShape = AnyApi> {
  readonly tab: string;
  #ctx: ShareContext;
  #name: string;
  #chan!: ChannelLike;
  #election: Election;
  #mirror = new Mirror();
  #received = 0;
  /** False until this tab knows where the shared stream stands (a snap, or it leads). */
  #placed = false;
  #leader: string | undefined;
  #relay: Relay | undefined;
  #calls: Calls;
  #events: Emitter<ClientEvents> = emitter((cause, event) => {
    if (event !== 'error') this.#events.emit('error', new WirefallError('WF_INVALID', `a "${event}" listener threw`, { cause }));
  });
  #handlers = emitter<Record<string, (data: unknown) => void>>((cause, type) => this.#events.emit('error', new WirefallError('WF_INVALID', `a "${String(type)}" subscriber threw`, { cause })));
  #view = new View(this.#events);
  #closed = false;
  /** In the back/forward cache: out of the group (no locks, no channel), its calls kept for the return. */
  #away = false;
  /**
   * Back from the cache, until this tab learns what happened while it was away (a leader's `snap`,
   * or the mirrors it gathers to lead): what it knew when it left (#reconcile).
   */
  #back: { mirror: MirrorState; received: number; heard: boolean } | undefined;
  /** The other tabs alive, as far as this one knows (./tabs). */
  #tabs!: Tabs;
  #unleave: () => void;

  constructor(ctx: ShareContext, name: string) {
    this.#ctx = ctx;
    this.#name = name;
    const { platform } = ctx;
    this.tab = platform.nonce();
    this.#calls = new Calls(resolveTimings(ctx.options));
    this.#election = new Election(platform.locks!, name);
    // A leader that is unloaded or frozen hands over at once, rather than after the browser notices.
    this.#unleave =
      platform.onLeave?.((reason) =>
        reason === 'pagehide' ? this.close() : reason === 'cached' ? this.#suspend() : reason === 'restored' ? this.#restore() : this.#resign(true),
      ) ?? (() => {});
    this.#open();
  }

  /** Takes this tab's place in the group: a channel, its lock of life, a place in the election's line. */
  #open(): void {
    const { platform, options } = this.#ctx;
    this.#chan = platform.channel!(this.#name);
    // What other contexts post is checked first: any script of the origin can post there.
    this.#chan.onmessage = receiver(options.logger, (m) => this.#on(m));
    // A tab that crashed says no `leave`: its released lock says it for it (`away`: it may be a
    // cached tab that comes back and asks for its calls' outcomes).
    this.#tabs = tabs(platform.locks!, this.#name, this.tab, (tab) => this.#on({ t: 'leave', tab, away: true }));
    this.#post({ t: 'join', tab: this.tab });
    this.#election.join(() => this.#lead());
  }

  /** Leaves the group: the locks and the channel go, so the other tabs stop counting this one. */
  #part(away: boolean): void {
    // Posted first: #post posts nothing once away or closed.
    this.#post({ t: 'leave', tab: this.tab, ...(away && { away }) });
    this.#election.resign();
    this.#tabs.close();
    this.#chan.onmessage = null;
    this.#chan.close();
  }

  /**
   * Into the back/forward cache. Held Web Locks (ours, or the lock of another tab we wait for)
   * got the page evicted (`WebLocksContention`), and so does a message on an open channel
   * (`BroadcastChannelOnMessage`): a leader hands over (the session stays, for another tab or for
   * this one when it is back) and the tab leaves the group as a closing one does, keeping its calls.
   */
  #suspend(): void {
    if (this.#closed || this.#away) return;
    this.#resign(true, false);
    this.#part(true);
    this.#away = true;
    this.#leader = undefined;
    if (this.#view.snap.state === 'open') this.#view.set({ ...this.#view.snap, state: 'reconnecting', rung: null });
  }

  /**
   * Back from the cache: joins again as a new tab would (with the same id, which its calls carry),
   * knowing nothing of the group yet. What it knew when it left waits in `#back`: the group may
   * have moved on meanwhile (acknowledged, renumbered, a new session), and its old mirror merged
   * in would bring back entries that are gone.
   */
  #restore(): void {
    if (this.#closed || !this.#away) return;
    this.#away = false;
    this.#back = { mirror: this.#mirror.state(), received: this.#received, heard: false };
    this.#mirror = new Mirror();
    this.#received = 0;
    this.#placed = false;
    this.#open();
  }

  /** Back from the cache, this tab knows the group's mirror again: its calls follow it (./back). */
  #reconcile(): void {
    this.#back = undefined;
    reconcile(this.#calls, this.#mirror, this.tab);
  }

  get role(): ClientRole {
    return this.#relay ? 'leader' : 'follower';
  }
  get state(): ConnectionState {
    return this.#closed ? 'closed' : this.#view.snap.state;
  }
  get rung(): RungName | null {
    return this.#closed ? null : this.#view.snap.rung;
  }
  get attempts(): readonly AttemptRecord[] {
    return this.#view.snap.attempts;
  }
  get rtt(): number | undefined {
    return this.#relay ? this.#relay.client.rtt : this.#view.snap.rtt;
  }
  /** The shared outbox: every tab's sends that await the server's ack. */
  get buffered(): { messages: number; bytes: number } {
    return { messages: this.#mirror.size, bytes: this.#mirror.bytes };
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
    if (this.#closed) return Promise.reject(new WirefallError('WF_CLOSED', 'client closed'));
    return this.#calls.add(method, args, (id) => this.#submit(id), !this.#relay);
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
    return this.#view.whenWritable(this.#closed);
  }

  /**
   * Closes this tab's client. A leader hands the connection to another tab when there is one
   * (the session stays); the last tab ends the session, as a solo client's close does.
   */
  close(): void {
    if (this.#closed) return;
    this.#resign(this.#tabs.alive.size > 0);
    // In the cache, it has left the group already.
    if (!this.#away) this.#part(false);
    this.#closed = true;
    this.#unleave();
    this.#calls.rejectAll(new WirefallError('WF_CLOSED', 'client closed before the server acknowledged'));
    this.#view.release();
    this.#events.emit('state', 'closed', null);
  }

  #submit(id: number): void {
    const p = this.#calls.get(id);
    if (!p || p.numbered) return;
    if (this.#relay) this.#relay.call({ t: 'call', from: this.tab, id, method: p.method, args: p.args });
    else if (this.#leader) this.#post({ t: 'call', from: this.tab, id, method: p.method, args: p.args });
    // With no leader known, the call waits: `snap` or `leader` submits it.
  }

  /** Posts to every other tab and applies it here too (a channel does not echo to its sender). */
  #post(m: TabMessage): void {
    if (this.#closed || this.#away) return;
    try {
      this.#chan.postMessage(m);
    } catch (e) {
      // A result that cannot be cloned: the asking tab hears why instead of waiting for ever.
      if (m.t === 'done') this.#post({ ...m, ok: false, value: undefined, error: { code: 'WF_INVALID', message: `result not transferable: ${String(e)}` } });
      // Arguments that cannot be cloned (a function, a symbol) cannot reach the leader: the call
      // fails as the leader's client would fail it, instead of waiting for ever.
      if (m.t === 'call') this.#calls.settle(m.id, false, undefined, errorShape(uncloned(m.method, m.args, e)));
      return;
    }
    this.#on(m, true);
  }

  #on(m: TabMessage, own = false): void {
    if (this.#closed) return;
    switch (m.t) {
      case 'join':
        if (own) return;
        this.#tabs.add(m.tab);
        if (this.#relay) this.#post({ t: 'snap', to: m.tab, leader: this.tab, snap: this.#relay.snapshot(), received: this.#received, mirror: this.#mirror.state() });
        return;
      case 'leave':
        this.#tabs.alive.delete(m.tab);
        this.#relay?.left(m.tab);
        if (!m.away) this.#mirror.forget(m.tab);
        return;
      case 'snap':
        if (m.to !== this.tab || this.#relay) return;
        this.#mirror.merge(m.mirror);
        if (!this.#placed) this.#received = m.received;
        this.#placed = true;
        this.#leader = m.leader;
        this.#tabs.add(m.leader);
        this.#view.set(m.snap);
        if (this.#back) this.#reconcile();
        for (const id of this.#calls.ids()) this.#submit(id);
        return;
      case 'call':
        if (!own) this.#tabs.add(m.from);
        if (this.#relay && !own) this.#relay.call(m);
        return;
      case 'assigned':
        this.#mirror.assign(m.e);
        if (m.e.from !== this.tab) return;
        this.#calls.numbered(m.e.id);
        // The leader holds our send unwritten until we know its number: now we do.
        if (!own) this.#post({ t: 'confirm', from: this.tab, id: m.e.id });
        return;
      case 'confirm':
        if (!own) this.#relay?.confirmed(m.from, m.id);
        return;
      case 'done':
        if (m.s !== undefined) m.ok ? (this.#mirror.acknowledge(m.s), this.#mirror.ackedCall(m.to, m.id)) : this.#mirror.drop(m.s);
        if (m.to === this.tab) this.#calls.settle(m.id, m.ok, m.value, m.error);
        return;
      case 'msg':
        // Numbers make delivery exactly once across hand-overs: a resumed leader may repeat some.
        if (!this.#placed || m.s <= this.#received) return;
        this.#received = m.s;
        this.#handlers.emit(m.ev, m.d);
        return;
      case 'event':
        return this.#view.event(m);
      case 'state':
        if (!own && this.#relay) return;
        this.#view.set(m.snap);
        return;
      case 'attempt':
        if (!own && this.#relay) return;
        this.#view.set({ ...this.#view.snap, attempts: m.attempts });
        this.#events.emit('attempt', m.a);
        return;
      case 'session':
        this.#mirror.session = { sid: m.sid, key: m.key };
        // A new session numbers the server's messages from 1 again: those are new, not repeats.
        if (m.resumed === false) this.#received = 0;
        return;
      case 'renumbered':
        this.#mirror.renumbered(m.moved, m.ack);
        return;
      case 'renumber':
        this.#mirror.renumber();
        return;
      case 'sync':
        if (own) return;
        this.#leader = undefined;
        this.#tabs.add(m.leader);
        if (this.#view.snap.state === 'open') this.#view.set({ ...this.#view.snap, state: 'reconnecting', rung: null });
        this.#post({ t: 'synced', from: this.tab, to: m.leader, received: this.#received, mirror: this.#mirror.state() });
        return;
      case 'synced':
        if (!own) this.#tabs.add(m.from);
        if (m.to !== this.tab || this.#relay) return;
        this.#mirror.merge(m.mirror);
        // Back from the cache: where the others are, not where this tab left.
        if (this.#back) (this.#back.heard = true), (this.#received = Math.max(this.#received, m.received));
        return;
      case 'leader':
        if (own) return;
        // Back from the cache and not told yet what happened meanwhile: the leader's `snap` tells.
        if (this.#back) return this.#post({ t: 'join', tab: this.tab });
        this.#leader = m.tab;
        this.#placed = true;
        if (m.fresh) this.#mirror.clear(), this.#calls.unnumber();
        for (const s of m.seeded) if (s.from === this.tab) this.#calls.numbered(s.id);
        for (const id of this.#calls.ids()) this.#submit(id);
    }
  }

  /** The lock is ours: learn what the other tabs know, then resume the session with it. */
  #lead(): void {
    if (this.#closed) return this.#election.resign();
    this.#post({ t: 'sync', leader: this.tab });
    this.#ctx.platform.clock.setTimeout(() => {
      if (this.#closed || !this.#election.leading) return;
      const back = this.#back;
      // Back from the cache and no tab answered: what this tab left with is all there is.
      if (back && !back.heard) this.#mirror.merge(back.mirror), (this.#received = back.received);
      if (back) this.#reconcile();
      this.#placed = true;
      const relay = new Relay({ tab: this.tab, clock: this.#ctx.platform.clock, post: (m) => this.#post(m), make: (tap) => this.#ctx.make(tapHook(tap)), mirror: this.#mirror, received: this.#received });
      this.#relay = relay;
      this.#leader = this.tab;
      // No session to resume: the numbers the old leader gave went nowhere, every call goes again.
      if (relay.fresh) this.#calls.unnumber();
      // Sends this tab made while following may already be in the seed: they keep their numbers.
      for (const e of relay.seeded) if (e.from === this.tab) this.#calls.numbered(e.id);
      this.#post({ t: 'leader', tab: this.tab, seeded: relay.seeded.map((e) => ({ from: e.from, id: e.id })), ...(relay.fresh && { fresh: true }) });
      this.#view.set(relay.snapshot());
      for (const id of this.#calls.ids()) this.#submit(id);
    }, SYNC_MS);
  }

  /** Stops leading; `handOver` keeps the session open for the next leader; `rejoin`: wait to lead again. */
  #resign(handOver: boolean, rejoin = handOver): void {
    const relay = this.#relay;
    if (!relay) return;
    this.#relay = undefined;
    this.#leader = undefined;
    relay.stop(handOver);
    this.#election.resign();
    // A frozen page that wakes up follows whoever leads by then.
    if (!this.#closed && rejoin) this.#election.join(() => this.#lead());
  }
}

/** The type `connect` returns, for a shared client (structurally the Client's surface). */
export type SharedAsClient<Api extends ApiShape> = Client<Api>;
