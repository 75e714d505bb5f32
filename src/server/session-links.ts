import { REPORT_MAX } from './attempt-report';
import type { RungName } from '../protocol/api';
import type { Batcher } from '../protocol/batcher';
import { CloseCode } from '../protocol/close-codes';
import { encodeFrame } from './codec';
import type { Inbox } from '../protocol/inbox';
import type { Outbox } from '../protocol/outbox';
import { Heartbeat, PINGS } from './heartbeat';
import type { Link } from './link';
import { TokenBucket } from './limits';
import type { ResolvedServerOptions } from './options';
import type { Violation } from './violation';

/** What a session's links need of the session. */
export interface LinksParts {
  id: string;
  key: string;
  opts: ResolvedServerOptions;
  inbox: Inbox;
  outbox: Outbox;
  batcher: Batcher;
  /** The session has a new live link (its rung), or none any more (null). */
  linked(rung: RungName | null): void;
  /** The client said goodbye, or did not come back within the TTL. */
  end(reason: string): void;
}

/**
 * A session's links: the live one, and the ones parked beside it. A hello for the session gets
 * its welcome at once, but a link becomes the live one only when the client speaks on it (or the
 * session had none): racing attempts each say hello, only the one the client chose speaks, so a
 * loser that arrives late can never take the session from the winner. A parked link the client
 * never speaks on is dropped after the hello timeout; a session left without links waits for a
 * resume for its TTL. The live link has the heartbeat.
 */
export class SessionLinks {
  #p: LinksParts;
  /** The link the session writes to; undefined while the client is away. */
  current: Link | undefined;
  /** Links that were welcomed while the session had one; each waits for the client to speak. */
  #parked = new Map<Link, ReturnType<typeof setTimeout>>();
  /** The race token each link's hello carried: a new writer's hello fences the links of other races. */
  #races = new WeakMap<Link, string | undefined>();
  /** Welcomes of fencing hellos that wait for a commit (`welcome`), by link. */
  #fenced = new Map<Link, () => void>();
  #expiry: ReturnType<typeof setTimeout> | undefined;
  #heartbeat: Heartbeat;
  /** Transport messages the client may still send now (`rateLimit.session`). */
  #rate: TokenBucket | undefined;
  /** The live link whose backlog we wait to drain (`full`). */
  #draining: Link | undefined;

  constructor(parts: LinksParts) {
    this.#p = parts;
    this.#heartbeat = new Heartbeat(parts.opts.heartbeatMs);
    this.#rate = parts.opts.rateLimit.session && new TokenBucket(parts.opts.rateLimit.session);
  }

  /**
   * A transport message arrived from the client: a violation when it is over the session's rate
   * limit (the rung then ends the link with `rate_limited`). One session sending 66,000 messages
   * a second stalled the event loop for every other one (issue 16, item 10).
   */
  admit(): Violation | undefined {
    if (this.#rate?.take() !== false) return undefined;
    const r = this.#rate.rate;
    return { code: 'rate_limited', closeCode: CloseCode.RateLimited, message: `more than ${r.perSecond} messages per second (burst ${r.burst})` };
  }

  /**
   * Welcomes `link` (`resumed`, protocol `v`): it becomes the live link, or is parked beside it.
   * `fence`: the hello came from a new writer of the session (a tab that took a shared session
   * over, §4), which numbers its messages on from this welcome's ack. The old writer's links (those
   * of other races) are closed first, so nothing of theirs is received after that ack; and the
   * welcome waits until everything received is acknowledgeable (a durable store's commit), so the
   * ack is all the server has.
   */
  welcome(link: Link, resumed: boolean, v: number, race?: string, fence = false): void {
    this.#races.set(link, race);
    if (fence) {
      for (const old of [...(this.current ? [this.current] : []), ...this.#parked.keys()]) {
        if (race !== undefined && this.#races.get(old) === race) continue;
        if (old === this.current) (this.current = undefined), this.#stop();
        clearTimeout(this.#parked.get(old));
        this.#parked.delete(old);
        old.close(CloseCode.Replaced, 'another writer took the session over');
      }
      const { inbox } = this.#p;
      if (inbox.acknowledgeable < inbox.received) {
        // Parked meanwhile (the hello timeout bounds the wait); released() sends the welcome.
        this.#parked.set(link, setTimeout(() => this.detach(link, false), this.#p.opts.helloTimeoutMs));
        this.#fenced.set(link, () => (this.#parked.delete(link), this.welcome(link, resumed, v, race)));
        return;
      }
    }
    const { opts, inbox } = this.#p;
    // Only what is committed is acknowledged (durable.ts); the client resends the rest, a duplicate.
    link.send(encodeFrame.welcome({
      v, sid: this.#p.id, key: this.#p.key, hb: opts.heartbeatMs, ack: inbox.acknowledgeable, resumed, max: opts.maxMessageBytes, rep: REPORT_MAX,
      // Every rung reads an ack inside a msg frame (incoming.ts), so the client may send them so (§4).
      pa: 1,
      // Every rung reads `run` frames (incoming.ts): a burst may go up as runs (§1.4).
      run: 1,
      // A WebSocket link reads binary messages: the client may write them (docs/protocol.md §1.3).
      ...((link.rung === 'ws' || link.rung === 'wss') && { bin: 1 }),
      // A long-poll link answers a poll again when its client says it lost the answer (§2.3): the
      // client may then try a failed poll again on the link, instead of giving the link up.
      ...(link.rung === 'longpoll' && { rp: 1 }),
    }));
    // Parked: a client that never speaks on it (a race loser it closed) does not keep it.
    if (this.current) this.#parked.set(link, setTimeout(() => this.detach(link, false), opts.helloTimeoutMs));
    else this.#switch(link);
  }

  /** A durable store committed: a welcome waiting for it (`fence`) may go now. */
  released(): void {
    const { inbox } = this.#p;
    if (!this.#fenced.size || inbox.acknowledgeable < inbox.received) return;
    for (const [link, go] of [...this.#fenced]) {
      this.#fenced.delete(link);
      clearTimeout(this.#parked.get(link));
      go();
    }
  }

  /** The client speaks on `link`: true when it is (now) the live link; false for a replaced link's stragglers. */
  choose(link: Link): boolean {
    if (this.current === link) return true;
    if (!this.#parked.has(link) || this.#fenced.has(link)) return false; // not welcomed yet: nothing to choose
    this.#switch(link); // the client speaks here: this is the link it chose
    return true;
  }

  /**
   * Whether the live link can take no more messages now: its backlog is past half
   * `maxBufferedBytes`. The batcher then writes only control frames, and writes messages again
   * once the backlog drained. Without this a burst the app sent in one tick (or a resume's replay,
   * up to 8 MiB) went into the socket at once: past `maxBufferedBytes` a healthy client was cut as
   * a slow reader, and on SSE it was cut again on every resume, never getting the replay.
   */
  full(): boolean {
    const link = this.current;
    // Nothing waiting is never full: `drained` is then sure to be told (by a write that leaves).
    const backlog = link?.backlog?.();
    if (!backlog || backlog < this.#p.opts.maxBufferedBytes / 2) return false;
    if (this.#draining !== link) {
      this.#draining = link;
      link!.drained!(() => {
        if (this.#draining !== link) return;
        this.#draining = undefined;
        this.#p.batcher.schedule();
      });
    }
    return true;
  }

  /** The client was heard from (the heartbeat's silence restarts). */
  seen(now: number): void {
    this.#heartbeat.seen(now);
  }

  /** The client polled `link` (long-polling): alive, if that is the live link. */
  polled(link: Link): void {
    if (this.current === link) this.#heartbeat.seen(Date.now());
  }

  /** The link went away. `clean`: the client said goodbye, so the session ends. */
  detach(link: Link, clean: boolean): void {
    if (this.#parked.has(link)) {
      clearTimeout(this.#parked.get(link));
      this.#parked.delete(link);
      this.#fenced.delete(link);
      link.close(CloseCode.Abandoned, 'not chosen');
    } else if (this.current === link) {
      this.current = undefined;
      this.#stop();
      if (clean) return this.#p.end('client closed');
    } else return;
    if (this.current || this.#parked.size) return;
    this.#p.opts.logger.debug('session lost its link; waiting for a resume', { session: this.#p.id });
    this.#p.linked(null);
    clearTimeout(this.#expiry);
    this.#expiry = setTimeout(() => this.#p.end('session expired'), this.#p.opts.sessionTtlMs);
  }

  /** The session ended: every timer stops; returns its links (the live one first), for the caller to close. */
  release(): Link[] {
    this.#stop();
    clearTimeout(this.#expiry);
    const links = [...(this.current ? [this.current] : []), ...this.#parked.keys()];
    for (const t of this.#parked.values()) clearTimeout(t);
    this.#parked.clear();
    this.#fenced.clear();
    this.current = undefined;
    return links;
  }

  #switch(link: Link): void {
    const old = this.current;
    clearTimeout(this.#parked.get(link));
    this.#parked.delete(link);
    this.current = link;
    this.#draining = undefined;
    old?.close(CloseCode.Replaced, 'session moved to another connection');
    clearTimeout(this.#expiry);
    this.#expiry = undefined;
    const { inbox, outbox, batcher } = this.#p;
    inbox.resumed();
    outbox.rewind();
    // The new link's client may read acks inside messages, or not (an older one).
    batcher.pa = !!link.pa;
    // On the HTTP rungs each answer to a ping is a request: our ping asks for one only when the
    // client was not heard from lately (§5). An idle long-poll client polls every beat, so it
    // never answers after the first; an idle SSE client answers every second beat.
    const http = link.rung === 'sse' || link.rung === 'longpoll';
    this.#heartbeat.start(
      (lately) => (batcher.push(!http ? PINGS.plain : lately ? PINGS.quiet : PINGS.ask), batcher.schedule()),
      () => {
        const live = this.current;
        if (!live) return;
        live.close(CloseCode.HeartbeatTimeout, 'heartbeat timeout');
        this.detach(live, false);
      },
      // An idle SSE client answers every second beat: one beat of slack after that.
      link.rung === 'sse' ? 3 : 2,
      link.received,
    );
    batcher.schedule();
    this.#p.opts.logger.debug(`session ${old ? 'moved' : 'linked'} to ${link.rung}`, { session: this.#p.id });
    this.#p.linked(link.rung);
  }

  #stop(): void {
    this.#heartbeat.stop();
    this.#p.batcher.stop();
  }
}
