/**
 * This tab as a member of the group: it joins, hears the other tabs' messages and answers them,
 * leads when the lock comes to it (./relay), and leaves, closing or into the back/forward cache and
 * back. What it hears moves what the app's client (./shared-client) shows. A closure, not a class:
 * wirefall/share pays for every `this.#field` (scripts/size.mjs).
 */
import type { ClientEvents } from '../core/client-types';
import type { ShareContext } from '../core/session-tap';
import type { ChannelLike } from '../platform';
import type { Emitter } from '../util/emitter';
import { tapHook } from './tap';
import { Election } from './election';
import { Mirror } from './mirror';
import { Relay } from './relay';
import { uncloned, type Calls } from './calls';
import { receiver } from './tab-check';
import type { View } from './view';
import { reconcile as reconcileCalls } from './back';
import { tabs as tabsAlive, type Tabs } from './tabs';
import { errorShape, type MirrorState, type TabMessage } from './tab-protocol';

/** How long a new leader listens for what the other tabs know before resuming. */
export const SYNC_MS = 100;

export interface Member {
  /** Set while this tab leads: the real client runs here. */
  readonly relay: Relay | undefined;
  /** The session as this tab knows it (a new one when back from the cache). */
  readonly mirror: Mirror;
  readonly closed: boolean;
  /** Sends call `id` to the leader (runs it here when this tab leads). */
  submit(id: number): void;
  suspend(): void;
  restore(): void;
  resign(handOver: boolean): void;
  close(): void;
}

/** Tab `tab` joins share `name`; what it hears moves `calls`, `view`, `handlers` and `events`, the app's client's. */
export function member(ctx: ShareContext, name: string, tab: string, calls: Calls, view: View, handlers: Emitter<Record<string, (data: unknown) => void>>, events: Emitter<ClientEvents>): Member {
  const { platform } = ctx;
  const election = new Election(platform.locks!, name);
  let chan: ChannelLike;
  let mirror = new Mirror();
  let received = 0;
  /** False until this tab knows where the shared stream stands (a snap, or it leads). */
  let placed = false;
  let leader: string | undefined;
  let relay: Relay | undefined;
  let closed = false;
  /** In the back/forward cache: out of the group (no locks, no channel), its calls kept for the return. */
  let away = false;
  /**
   * Back from the cache, until this tab learns what happened while it was away (a leader's `snap`,
   * or the mirrors it gathers to lead): what it knew when it left (reconcile).
   */
  let back: { mirror: MirrorState; received: number; heard: boolean } | undefined;
  /** The other tabs alive, as far as this one knows (./tabs). */
  let tabs: Tabs;

  /** Takes this tab's place in the group: a channel, its lock of life, a place in the election's line. */
  function open(): void {
    chan = platform.channel!(name);
    // What other contexts post is checked first: any script of the origin can post there.
    chan.onmessage = receiver(ctx.options.logger, on);
    // A tab that crashed says no `leave`: its released lock says it for it (`away`: it may be a
    // cached tab that comes back and asks for its calls' outcomes).
    tabs = tabsAlive(platform.locks!, name, tab, (t) => on({ t: 'leave', tab: t, away: true }));
    post({ t: 'join', tab });
    election.join(lead);
  }

  /** Leaves the group: the locks and the channel go, so the other tabs stop counting this one. */
  function part(isAway: boolean): void {
    // Posted first: post() posts nothing once away or closed.
    post({ t: 'leave', tab, ...(isAway && { away: isAway }) });
    election.resign();
    tabs.close();
    chan.onmessage = null;
    chan.close();
  }

  /**
   * Into the back/forward cache. Held Web Locks (ours, or the lock of another tab we wait for)
   * got the page evicted (`WebLocksContention`), and so does a message on an open channel
   * (`BroadcastChannelOnMessage`): a leader hands over (the session stays, for another tab or for
   * this one when it is back) and the tab leaves the group as a closing one does, keeping its calls.
   */
  function suspend(): void {
    if (closed || away) return;
    resign(true, false);
    part(true);
    away = true;
    leader = undefined;
    if (view.snap.state === 'open') view.set({ ...view.snap, state: 'reconnecting', rung: null });
  }

  /**
   * Back from the cache: joins again as a new tab would (with the same id, which its calls carry),
   * knowing nothing of the group yet. What it knew when it left waits in `back`: the group may
   * have moved on meanwhile (acknowledged, renumbered, a new session), and its old mirror merged
   * in would bring back entries that are gone.
   */
  function restore(): void {
    if (closed || !away) return;
    away = false;
    back = { mirror: mirror.state(), received, heard: false };
    mirror = new Mirror();
    received = 0;
    placed = false;
    open();
  }

  /** Back from the cache, this tab knows the group's mirror again: its calls follow it (./back). */
  function reconcile(): void {
    back = undefined;
    reconcileCalls(calls, mirror, tab);
  }

  function submit(id: number): void {
    const p = calls.get(id);
    if (!p || p.numbered) return;
    if (relay) relay.call({ t: 'call', from: tab, id, method: p.method, args: p.args });
    else if (leader) post({ t: 'call', from: tab, id, method: p.method, args: p.args });
    // With no leader known, the call waits: `snap` or `leader` submits it.
  }

  /** Posts to every other tab and applies it here too (a channel does not echo to its sender). */
  function post(m: TabMessage): void {
    if (closed || away) return;
    try {
      chan.postMessage(m);
    } catch (e) {
      // A result that cannot be cloned: the asking tab hears why instead of waiting for ever.
      if (m.t === 'done') post({ ...m, ok: false, value: undefined, error: { code: 'WF_INVALID', message: `result not transferable: ${String(e)}` } });
      // Arguments that cannot be cloned (a function, a symbol) cannot reach the leader: the call
      // fails as the leader's client would fail it, instead of waiting for ever.
      if (m.t === 'call') calls.settle(m.id, false, undefined, errorShape(uncloned(m.method, m.args, e)));
      return;
    }
    on(m, true);
  }

  function on(m: TabMessage, own = false): void {
    if (closed) return;
    switch (m.t) {
      case 'join':
        if (own) return;
        tabs.add(m.tab);
        if (relay) post({ t: 'snap', to: m.tab, leader: tab, snap: relay.snapshot(), received, mirror: mirror.state() });
        return;
      case 'leave':
        tabs.alive.delete(m.tab);
        relay?.left(m.tab);
        if (!m.away) mirror.forget(m.tab);
        return;
      case 'snap':
        if (m.to !== tab || relay) return;
        mirror.merge(m.mirror);
        if (!placed) received = m.received;
        placed = true;
        leader = m.leader;
        tabs.add(m.leader);
        view.set(m.snap);
        if (back) reconcile();
        for (const id of calls.ids()) submit(id);
        return;
      case 'call':
        if (!own) tabs.add(m.from);
        if (relay && !own) relay.call(m);
        return;
      case 'assigned':
        mirror.assign(m.e);
        if (m.e.from !== tab) return;
        calls.numbered(m.e.id);
        // The leader holds our send unwritten until we know its number: now we do.
        if (!own) post({ t: 'confirm', from: tab, id: m.e.id });
        return;
      case 'confirm':
        if (!own) relay?.confirmed(m.from, m.id);
        return;
      case 'done':
        if (m.s !== undefined) m.ok ? (mirror.acknowledge(m.s), mirror.ackedCall(m.to, m.id)) : mirror.drop(m.s);
        if (m.to === tab) calls.settle(m.id, m.ok, m.value, m.error);
        return;
      case 'msg':
        // Numbers make delivery exactly once across hand-overs: a resumed leader may repeat some.
        if (!placed || m.s <= received) return;
        received = m.s;
        handlers.emit(m.ev, m.d);
        return;
      case 'event':
        return view.event(m);
      case 'state':
        if (!own && relay) return;
        view.set(m.snap);
        return;
      case 'attempt':
        if (!own && relay) return;
        view.set({ ...view.snap, attempts: m.attempts });
        events.emit('attempt', m.a);
        return;
      case 'session':
        mirror.session = { sid: m.sid, key: m.key };
        // A new session numbers the server's messages from 1 again: those are new, not repeats.
        if (m.resumed === false) received = 0;
        return;
      case 'renumbered':
        mirror.renumbered(m.moved, m.ack);
        return;
      case 'renumber':
        mirror.renumber();
        return;
      case 'sync':
        if (own) return;
        leader = undefined;
        tabs.add(m.leader);
        if (view.snap.state === 'open') view.set({ ...view.snap, state: 'reconnecting', rung: null });
        post({ t: 'synced', from: tab, to: m.leader, received, mirror: mirror.state() });
        return;
      case 'synced':
        if (!own) tabs.add(m.from);
        if (m.to !== tab || relay) return;
        mirror.merge(m.mirror);
        // Back from the cache: where the others are, not where this tab left.
        if (back) (back.heard = true), (received = Math.max(received, m.received));
        return;
      case 'leader':
        if (own) return;
        // Back from the cache and not told yet what happened meanwhile: the leader's `snap` tells.
        if (back) return post({ t: 'join', tab });
        leader = m.tab;
        placed = true;
        if (m.fresh) mirror.clear(), calls.unnumber();
        for (const s of m.seeded) if (s.from === tab) calls.numbered(s.id);
        for (const id of calls.ids()) submit(id);
    }
  }

  /** The lock is ours: learn what the other tabs know, then resume the session with it. */
  function lead(): void {
    if (closed) return election.resign();
    post({ t: 'sync', leader: tab });
    platform.clock.setTimeout(() => {
      if (closed || !election.leading) return;
      const b = back;
      // Back from the cache and no tab answered: what this tab left with is all there is.
      if (b && !b.heard) mirror.merge(b.mirror), (received = b.received);
      if (b) reconcile();
      placed = true;
      const r = (relay = new Relay({ tab, clock: platform.clock, post, make: (tap) => ctx.make(tapHook(tap)), mirror, received }));
      leader = tab;
      // No session to resume: the numbers the old leader gave went nowhere, every call goes again.
      if (r.fresh) calls.unnumber();
      // Sends this tab made while following may already be in the seed: they keep their numbers.
      for (const e of r.seeded) if (e.from === tab) calls.numbered(e.id);
      post({ t: 'leader', tab, seeded: r.seeded.map((e) => ({ from: e.from, id: e.id })), ...(r.fresh && { fresh: true }) });
      view.set(r.snapshot());
      for (const id of calls.ids()) submit(id);
    }, SYNC_MS);
  }

  /** Stops leading; `handOver` keeps the session open for the next leader; `rejoin`: wait to lead again. */
  function resign(handOver: boolean, rejoin = handOver): void {
    const r = relay;
    if (!r) return;
    relay = undefined;
    leader = undefined;
    r.stop(handOver);
    election.resign();
    // A frozen page that wakes up follows whoever leads by then.
    if (!closed && rejoin) election.join(lead);
  }

  open();
  return {
    get relay() {
      return relay;
    },
    get mirror() {
      return mirror;
    },
    get closed() {
      return closed;
    },
    submit,
    suspend,
    restore,
    resign,
    /** A leader hands over when another tab is alive (the session stays); the tab leaves the group. */
    close() {
      resign(tabs.alive.size > 0);
      // In the cache, it has left the group already.
      if (!away) part(false);
      closed = true;
    },
  };
}
