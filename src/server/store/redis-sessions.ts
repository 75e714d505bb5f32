import { randomBytes } from 'node:crypto';
import type { createClient } from 'redis';
import { isPosition, isSessionState, type TakeOptions, type FanoutPosition, type RecordDelta, type SessionMover, type SessionRecords, type SessionState, type StagedFanout } from '../handover';
import { CLAIM, COMMIT, DROP, PUT } from './redis-scripts';
import { within } from './redis-deadline';
import { idAfter, LOG_ID } from './redis-fanout';
import type { FanOutEntry, StoreNode } from './types';

type Client = ReturnType<typeof createClient>;

/** What the sessions part of the Redis store needs of the rest of it. */
export interface RedisSessionsParts {
  pub: () => Client | undefined;
  prefix: string;
  nodeId: string;
  node: () => StoreNode | undefined;
  /** Session `id`'s fan-out position now, written with each of its records. */
  position: (id: string) => FanoutPosition | undefined;
  /** A state was taken here (before the session is built from it); `end`: the fan-out log's last entry then. */
  arrived: (state: SessionState, end: string) => void;
  /** Session `id` left this node (parked, handed over, or ended): its fan-out bookkeeping goes. */
  forget: (id: string) => void;
  /** The fan-out log, for batches that publish with their commit. */
  fanout: { logKey: string; logLength: number; stage(entries: FanOutEntry[]): StagedFanout; publish(entry: FanOutEntry): void; dropped(n: number): void };
}

/** How long a node waits for the owner of a session to hand it over. */
export const HANDOVER_TIMEOUT_MS = 1500;

/**
 * After Redis comes back (empty, if it restarted without persistence), each owner writes its
 * sessions whole again within about a second (durable.ts): until this many ms have passed, a
 * session found nowhere may just not be written yet, so its resume is refused for a moment
 * (the hub's `storeGraceMs`) rather than answered with a new session.
 */
const REWRITE_WINDOW_MS = 5000;

/**
 * Sessions in Redis (docs/scaling.md §4 and §5): each one a durable record, written when it
 * starts and after every batch (`commit`), with an epoch that fences its owner.
 * - A node that shuts down writes each session whole, unowned (`park`).
 * - A node whose client resumes a session it does not have claims the record: at once when it is
 *   parked; when a node owns it, that node is asked first (`{prefix}:handover`), and if alive it
 *   ends the session, writes it whole and answers on the asker's `{prefix}:node:{id}`; a node that
 *   does not answer (killed, stalled) loses the session anyway: the claim bumps the epoch.
 * A session that is nowhere (expired, or Redis lost it) is not taken: its client reports the loss
 * (`sessionlost`).
 */
export class RedisSessions implements SessionMover, SessionRecords {
  #pub: () => Client | undefined;
  #prefix: string;
  #nodeId: string;
  #node: () => StoreNode | undefined;
  #waiting = new Map<string, () => void>();
  #position: (id: string) => FanoutPosition | undefined;
  #forget: (id: string) => void;
  #fanout: RedisSessionsParts['fanout'];
  #arrived: RedisSessionsParts['arrived'];
  /** Whether the publishing connection was ready once, and when it last came back after that. */
  #connected = false;
  #backAt = 0;
  /** Records this node's sessions were written to; what `stats` reports. */
  commits = 0;
  takeovers = 0;
  /** Records found malformed when taken over, and dropped. */
  corrupt = 0;
  /** The session TTL (the hub's `sessionTtlMs`, as `take` is told): how long a session given back is kept. */
  ttlMs = 60_000;
  readonly records = this;

  constructor(parts: RedisSessionsParts) {
    this.#fanout = parts.fanout;
    this.#forget = parts.forget;
    this.#position = parts.position;
    this.#arrived = parts.arrived;
    this.#pub = parts.pub;
    this.#prefix = parts.prefix;
    this.#nodeId = parts.nodeId;
    this.#node = parts.node;
  }

  /** The channels this node listens to for hand-overs: requests from all, answers to itself. */
  get channels(): { requests: string; answers: string } {
    return { requests: `${this.#prefix}:handover`, answers: `${this.#prefix}:node:${this.#nodeId}` };
  }

  /** The publishing connection is ready: the first time, or again after losing Redis. */
  ready(): void {
    if (this.#connected) {
      this.#backAt = Date.now();
      // Within the window above: every session writes itself again, the quiet ones too.
      this.#node()?.rewrite?.();
    }
    this.#connected = true;
  }

  async take(id: string, keyHash: string, identity: string, { ttlMs, abandoned = () => false }: TakeOptions): Promise<SessionState | undefined> {
    this.ttlMs = ttlMs;
    if (abandoned()) return undefined;
    const first = await this.#claim(id, keyHash, identity, false, ttlMs);
    if (first === 'corrupt') return undefined;
    if (first !== 'busy' && first !== undefined) return first;
    // Its client gave this hello up while the claim ran: the session stays where it is.
    if (abandoned()) return undefined;
    // Held by a node (or by nobody, as far as Redis knows: a node that could not write it while
    // Redis was away may hold it still): ask; whoever has it ends it there and writes it whole.
    const pub = this.#pub();
    if (!pub?.isReady) throw new Error('Redis is not connected');
    const req = randomBytes(9).toString('base64url');
    const answered = new Promise<void>((resolve) => {
      const t = setTimeout(() => (this.#waiting.delete(req), resolve()), HANDOVER_TIMEOUT_MS);
      this.#waiting.set(req, () => (clearTimeout(t), this.#waiting.delete(req), resolve()));
    });
    await within(pub.sPublish(this.channels.requests, JSON.stringify({ req, from: this.#nodeId, id, keyHash, identity })), 'a hand-over request').catch(() => {});
    await answered;
    // A race's losing attempt (its client adopted another, maybe on the node that took the
    // session meanwhile) must not take it from there: a stolen session fenced the client's link
    // at its next commit, and the client moved again (its batch in flight then handled twice).
    if (abandoned()) return undefined;
    // Answered, or silent (killed or stalled): the record is taken either way; a stalled owner's
    // later writes are refused for their stale epoch.
    const last = await this.#claim(id, keyHash, identity, true, ttlMs);
    if (last === undefined && Date.now() - this.#backAt < REWRITE_WINDOW_MS) throw new Error('Redis came back moments ago: the session may not be written again yet');
    return last === 'busy' || last === 'corrupt' ? undefined : last;
  }

  async park(states: SessionState[], ttlMs: number): Promise<void> {
    if (!states.length) return;
    const writes = states.map((s) => this.#put(s, s.epoch ?? 0, ttlMs, ''));
    for (const s of states) this.#forget(s.id); // after their positions were taken
    const results = await Promise.all(writes);
    const refused = results.filter((ok) => !ok).length;
    // Refused: another node took the session meanwhile (its epoch is newer); nothing to keep.
    if (refused) this.#node()?.logger.warn(`redis store: ${refused} sessions had moved on before this node could leave them`);
  }

  put(state: SessionState, epoch: number, ttlMs: number): Promise<boolean> {
    return this.#put(state, epoch, ttlMs, this.#nodeId);
  }

  async commit(id: string, epoch: number, d: RecordDelta, ttlMs: number): Promise<'ok' | 'fenced' | 'missing'> {
    try {
      return await this.#commit(id, epoch, d, ttlMs);
    } catch (err) {
      // Its fan-out reached this node only: counted like any entry Redis did not carry.
      if (d.fanout) this.#fanout.dropped(d.fanout.texts.length);
      throw err;
    }
  }

  async #commit(id: string, epoch: number, d: RecordDelta, ttlMs: number): Promise<'ok' | 'fenced' | 'missing'> {
    const pub = this.#pub();
    if (!pub?.isReady) throw new Error('Redis is not connected');
    const args = [
      String(epoch), String(d.received), String(d.next), String(d.acked), d.rooms ? JSON.stringify(d.rooms) : '', JSON.stringify(this.#position(id) ?? null),
      String(Math.max(1, ttlMs)), String(d.entries.length), String(this.#fanout.logLength), ...d.entries.map((e) => JSON.stringify(e)),
    ];
    const f = d.fanout;
    if (f) for (let i = 0; i < f.texts.length; i++) args.push(f.channels[i]!, f.texts[i]!);
    const r = await within(pub.eval(COMMIT, { keys: [...this.#keys(id), this.#fanout.logKey], arguments: args }), 'a commit');
    this.commits++;
    return r === 1 ? 'ok' : r === 0 ? 'fenced' : 'missing';
  }

  position(id: string): FanoutPosition | undefined {
    return this.#position(id);
  }

  stage(entries: FanOutEntry[]): StagedFanout {
    return this.#fanout.stage(entries);
  }

  publish(entries: FanOutEntry[]): void {
    for (const e of entries) this.#fanout.publish(e);
  }

  drop(id: string, epoch: number): void {
    this.#forget(id);
    const pub = this.#pub();
    if (pub?.isReady) pub.eval(DROP, { keys: this.#keys(id), arguments: [String(epoch)] }).catch(() => {});
  }

  /** A message on one of `channels`. */
  onMessage(message: string, channel: string): void {
    let m: { req?: unknown; from?: unknown; id?: unknown; keyHash?: unknown; identity?: unknown };
    try {
      m = JSON.parse(message) as typeof m;
    } catch {
      return;
    }
    if (typeof m.req !== 'string') return;
    if (channel === this.channels.answers) return this.#waiting.get(m.req)?.();
    if (m.from === this.#nodeId || typeof m.from !== 'string' || typeof m.id !== 'string' || typeof m.keyHash !== 'string' || typeof m.identity !== 'string') return;
    // Hearing Redis again before being able to write to it: keep the session rather than end it
    // here unwritten (the asker refuses its client for a moment; it comes back).
    if (!this.#pub()?.isReady) return;
    const node = this.#node();
    const state = node?.surrender(m.id, m.keyHash, m.identity);
    if (!state) return; // not ours (or not for that key): the owner answers, if there is one
    const answer = `${this.#prefix}:node:${m.from}`;
    const req = m.req;
    // The asker takes it within a round trip; the TTL only clears a state whose asker died.
    this.park([state], 60_000)
      .then(() => this.#pub()?.sPublish(answer, JSON.stringify({ req })))
      .catch((err: unknown) => node!.logger.warn(`redis store: handing session ${state.id} over failed; the asker takes its last commit (its client resends the rest): ${String(err)}`));
  }

  async #put(s: SessionState, epoch: number, ttlMs: number, owner: string): Promise<boolean> {
    const pub = this.#pub();
    if (!pub?.isReady) throw new Error('Redis is not connected');
    const fanout = s.fanout ?? this.#position(s.id) ?? null;
    const args = [String(epoch), owner, s.keyHash, s.identity, s.user, String(s.received), String(s.outbox.next), String(s.outbox.acked), JSON.stringify(s.rooms), JSON.stringify(fanout), String(Math.max(1, ttlMs)), ...s.outbox.entries.map((e) => JSON.stringify(e))];
    return (await within(pub.eval(PUT, { keys: this.#keys(s.id), arguments: args }), 'a session write')) === 1;
  }

  async #claim(id: string, keyHash: string, identity: string, force: boolean, ttlMs: number): Promise<SessionState | 'busy' | 'corrupt' | undefined> {
    const pub = this.#pub();
    // Not "no such session": the hub asks the client to come back (storeGraceMs).
    if (!pub?.isReady) throw new Error('Redis is not connected');
    const r = await within(pub.eval(CLAIM, { keys: [...this.#keys(id), this.#fanout.logKey], arguments: [keyHash, identity, this.#nodeId, force ? '1' : '0', String(Math.max(1, ttlMs))] }), 'a claim');
    if (r === 'busy') return 'busy';
    if (!Array.isArray(r) || r.length !== 9) return undefined;
    const [epoch, user, received, next, acked, rooms, fanout, entries, end] = r as [string, string, string, string, string, string, string, string[], string];
    let state: unknown;
    try {
      const position: unknown = JSON.parse(fanout);
      // A place past the log's end (a corrupt record, a hand-edited key) would skip every entry
      // until the log caught up with it, maybe for ever. Its old node wrote it before this claim,
      // so the log's end now is as far as it can be: every entry after that is new to the session.
      if (isPosition(position) && (!LOG_ID.test(position.id) || idAfter(position.id, end || '0-0'))) {
        this.corrupt++;
        this.#node()?.logger.warn('redis store: a session record\'s fan-out position was no log id, or past the end of the log; it catches up from the end', { session: id });
        position.id = end || '0-0';
      }
      state = {
        v: 1, id, keyHash, identity, user, received: Number(received), epoch: Number(epoch),
        outbox: { next: Number(next), acked: Number(acked), entries: entries.map((e) => JSON.parse(e) as unknown) },
        rooms: JSON.parse(rooms) as unknown, ...(isPosition(position) && { fanout: position }),
      };
    } catch {
      state = undefined;
    }
    // Redis is inside the trust boundary, but its data is still checked like a peer's: a message
    // of the replay the client cannot decode, a gap in its numbers, a room name no join takes.
    // None can be skipped (the client checks that the numbers follow each other, and a member
    // dropped from a room would miss its messages without a word): the record is dropped and the
    // client's resume gets a new session, which it reports (`sessionlost`).
    if (!isSessionState(state, this.#node()?.readable)) {
      this.corrupt++;
      this.#node()?.logger.warn('redis store: a session record that does not hold a well-formed session was dropped; its client gets a new session (sessionlost)', { session: id });
      pub.eval(DROP, { keys: this.#keys(id), arguments: [epoch] }).catch(() => {});
      return 'corrupt';
    }
    this.takeovers++;
    this.#arrived(state, end);
    return state;
  }

  #keys(id: string): [string, string] {
    return [`${this.#prefix}:s:${id}`, `${this.#prefix}:q:${id}`];
  }
}
