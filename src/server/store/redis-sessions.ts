import { randomBytes } from 'node:crypto';
import type { createClient } from 'redis';
import { isSessionState, type SessionMover, type SessionState } from '../handover';
import type { StoreNode } from './types';

type Client = ReturnType<typeof createClient>;

/** How long a node waits for the owner of a session to hand it over. */
export const HANDOVER_TIMEOUT_MS = 1500;

/**
 * Takes a parked state only for the right key hash and identity, and in one step (a script runs
 * alone): of two nodes that race for one session, exactly one gets it. A wrong key leaves it.
 */
const TAKE = `
local h = redis.call('HMGET', KEYS[1], 'kh', 'id', 'state')
if not h[1] or h[1] ~= ARGV[1] or h[2] ~= ARGV[2] then return false end
redis.call('DEL', KEYS[1])
return h[3]`;

/**
 * Sessions that move between nodes over Redis (docs/scaling.md §4, what is built):
 * - a node that shuts down parks each session's state under `{prefix}:park:{id}` (a hash: key
 *   hash, identity, state; expires with the session TTL);
 * - a node whose client resumes a session it does not have takes the parked state, or else asks
 *   every node on `{prefix}:handover`; the owner, if alive, ends the session there, parks it and
 *   answers on the asker's `{prefix}:node:{id}` channel, and the asker takes it.
 * A session whose owner was killed is in neither place: the asker starts a new session and the
 * client reports the loss (`sessionlost`).
 */
export class RedisSessions implements SessionMover {
  #pub: () => Client | undefined;
  #prefix: string;
  #nodeId: string;
  #node: () => StoreNode | undefined;
  #waiting = new Map<string, () => void>();
  #position: () => Record<string, number>;
  #arrived: (state: SessionState) => void;

  constructor(parts: {
    pub: () => Client | undefined; prefix: string; nodeId: string; node: () => StoreNode | undefined;
    /** This node's fan-out position, left in each state it hands over. */
    position: () => Record<string, number>;
    /** A state was taken here (before the session is built from it). */
    arrived: (state: SessionState) => void;
  }) {
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

  async take(id: string, keyHash: string, identity: string): Promise<SessionState | undefined> {
    const parked = await this.#takeParked(id, keyHash, identity);
    if (parked) return parked;
    const pub = this.#pub();
    if (!pub?.isReady) return undefined;
    const req = randomBytes(9).toString('base64url');
    const answered = new Promise<void>((resolve) => {
      const t = setTimeout(() => (this.#waiting.delete(req), resolve()), HANDOVER_TIMEOUT_MS);
      this.#waiting.set(req, () => (clearTimeout(t), this.#waiting.delete(req), resolve()));
    });
    await pub.sPublish(this.channels.requests, JSON.stringify({ req, from: this.#nodeId, id, keyHash, identity })).catch(() => {});
    await answered;
    // Answered or not: the owner may have parked it (it answered, or it was shutting down).
    return this.#takeParked(id, keyHash, identity);
  }

  async park(states: SessionState[], ttlMs: number): Promise<void> {
    const pub = this.#pub();
    if (!states.length) return;
    if (!pub?.isReady) throw new Error('Redis is not connected');
    const m = pub.multi();
    const position = this.#position();
    for (const s of states) {
      s.fanout ??= position;
      const key = this.#key(s.id);
      m.hSet(key, { kh: s.keyHash, id: s.identity, state: JSON.stringify(s) }).pExpire(key, Math.max(1, ttlMs));
    }
    await m.exec();
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
    const node = this.#node();
    const state = node?.surrender(m.id, m.keyHash, m.identity);
    if (!state) return; // not ours (or not for that key): the owner answers, if there is one
    const answer = `${this.#prefix}:node:${m.from}`;
    const req = m.req;
    // The asker takes it within a round trip; the TTL only clears a state whose asker died.
    this.park([state], 60_000)
      .then(() => this.#pub()?.sPublish(answer, JSON.stringify({ req })))
      .catch((err: unknown) => node!.logger.warn(`redis store: handing session ${state.id} over failed; its client will report it lost: ${String(err)}`));
  }

  async #takeParked(id: string, keyHash: string, identity: string): Promise<SessionState | undefined> {
    const pub = this.#pub();
    if (!pub?.isReady) return undefined;
    const text = await pub.eval(TAKE, { keys: [this.#key(id)], arguments: [keyHash, identity] });
    if (typeof text !== 'string') return undefined;
    let state: unknown;
    try {
      state = JSON.parse(text);
    } catch {
      return undefined;
    }
    if (!isSessionState(state) || state.id !== id) return undefined;
    this.#arrived(state);
    return state;
  }

  #key(id: string): string {
    return `${this.#prefix}:park:${id}`;
  }
}
