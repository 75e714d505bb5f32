import { randomBytes } from 'node:crypto';
import { createClient } from 'redis';
import { RedisRoutes } from './redis-routes';
import { RedisSessions } from './redis-sessions';
import { decodeEntry, encodeEntry, FANOUT, idAfter, LOG_ID } from './redis-fanout';
import { Follows } from './redis-follows';
import { RoomSubscriptions } from './redis-rooms';
import type { SessionState, StagedFanout } from '../handover';
import { Durable } from '../durable';
import { within } from './redis-deadline';
import { SeenNodes } from './redis-seen';
import type { FanOutEntry, SessionStore, StoreNode } from './types';
import type { RedisStoreOptions, RedisStoreStats } from './redis-store-options';

export type { RedisStoreOptions, RedisStoreStats } from './redis-store-options';

/** Reconnect after 50 ms, doubling up to 2 s, with jitter so a fleet does not return in step. */
const backoff = (retries: number): number => Math.min(50 * 2 ** retries, 2000) * (0.5 + Math.random() / 2);

type Client = ReturnType<typeof createClient>;

/**
 * Fan-out over Redis pub/sub. Each entry goes to this node's sessions at once (so a handler's
 * broadcast is ordered with its `conn.send`s) and to the other nodes over a channel: `{prefix}:all`
 * for broadcasts, `{prefix}:room:{room}` per room. Both use sharded pub/sub (SPUBLISH/SSUBSCRIBE,
 * Redis ≥ 7): in a Redis Cluster a channel lives on one shard instead of being copied to every
 * node of the cluster, and a node subscribes only to the rooms it has members in (`watch`).
 *
 * What it promises, and what not (docs/scaling.md): entries from one node arrive at another in
 * the order they were published (one Redis, one connection each way); while Redis is unreachable,
 * entries for other nodes are dropped and counted (`stats.dropped`), never queued without bound.
 */
export class RedisStore implements SessionStore {
  readonly name = 'redis';
  /** Marks this node's own entries, which it delivered before publishing. */
  readonly nodeId = randomBytes(9).toString('base64url');
  #stats = { published: 0, received: 0, dropped: 0, corrupt: 0 };
  /** This node's fan-out entries are numbered, so a session that moves is never given one twice. */
  #seq = 0;
  /** Per publishing node, the last entry this node received (and delivered); bounded (redis-seen.ts). */
  #seen = new SeenNodes();
  /** The log id of the last entry this node heard live (every earlier one for its sessions was delivered). */
  #live = '';
  /** This node's subscriptions to its rooms (a moved session catches up once they are in place). */
  #rooms: RoomSubscriptions;
  /** Sessions that moved here, while they catch up from the log and skip what they had. */
  #follows: Follows;
  #options: RedisStoreOptions;
  #prefix: string;
  #pub: Client | undefined;
  #sub: Client | undefined;
  #node: StoreNode | undefined;
  #listener = (message: string, channel: string): void => this.#onMessage(message, channel);
  /** Sessions that move between nodes: parked on shutdown, handed over by a live owner. */
  readonly sessions: RedisSessions;
  #handover = (message: string, channel: string): void => this.sessions.onMessage(message, channel);
  /** Where HTTP-rung requests of sessions on other nodes go. */
  readonly routes: RedisRoutes;

  constructor(options: RedisStoreOptions = {}) {
    this.#options = options;
    this.#prefix = options.prefix ?? 'wf';
    const rooms = (this.#rooms = new RoomSubscriptions({
      sub: () => this.#sub, channel: (room) => this.#channel(room), listener: this.#listener, warn: (m) => this.#node?.logger.warn(m),
    }));
    const follows = (this.#follows = new Follows({
      nodeId: this.nodeId, logKey: this.#logKey, node: () => this.#node, pub: () => this.#pub, subscribed: (room) => rooms.subscribed(room),
      live: () => this.#live, seen: this.#seen, seq: () => this.#seq, leave: (state, why) => this.#leave(state, why),
    }));
    this.sessions = new RedisSessions({
      pub: () => this.#pub, prefix: this.#prefix, nodeId: this.nodeId, node: () => this.#node,
      position: (id) => follows.position(id),
      arrived: (state, end) => follows.arrived(state, end),
      forget: (id) => follows.forget(id),
      fanout: {
        logKey: this.#logKey, logLength: options.fanoutLog ?? 100_000,
        stage: (entries) => this.#stage(entries), publish: (entry) => this.#publish(entry),
        dropped: (n) => ((this.#stats.published -= n), (this.#stats.dropped += n)),
      },
    });
    this.routes = new RedisRoutes({ pub: () => this.#pub, prefix: this.#prefix, nodeId: this.nodeId, advertise: options.advertise, node: () => this.#node, refreshMs: options.routesRefreshMs });
  }

  get stats(): Readonly<RedisStoreStats> {
    return { ...this.#stats, forwarded: this.routes.forwarded, commits: this.sessions.commits, takeovers: this.sessions.takeovers, caughtUp: this.#follows.caughtUp, lost: this.#follows.lost,
      corrupt: this.#stats.corrupt + this.sessions.corrupt + this.#follows.corrupt, givenBack: this.#follows.leftBack };
  }

  async open(node: StoreNode): Promise<void> {
    this.#node = node;
    const o = this.#options;
    const socket = { reconnectStrategy: backoff, connectTimeout: 2000, ...o.client?.socket };
    const url = o.url ?? o.client?.url ?? 'redis://127.0.0.1:6379';
    // The publishing connection refuses commands while Redis is away: a queue that waits for
    // Redis would grow with every broadcast for as long as the outage lasts.
    // Its queue is bounded too: a Redis that hangs with the connection open answers nothing, and
    // commands past their deadline (redis-deadline.ts) still wait on the connection.
    const pub = (this.#pub = createClient({ commandsQueueMaxLength: 10_000, ...o.client, url, socket, disableOfflineQueue: true }));
    // The subscribing one: node-redis subscribes again after a reconnect to what it had (a node
    // that lost Redis hears the other nodes again once it is back), and rooms joined or left
    // meanwhile are sent then, as a difference (redis-rooms.ts), never queued.
    const sub = (this.#sub = createClient({ ...o.client, url, socket }));
    sub.on('ready', () => this.#rooms.sync());
    // A client without an `error` listener throws it: Redis going away must not end the node.
    for (const [c, role] of [[pub, 'publish'], [sub, 'subscribe']] as const) {
      c.on('error', (err: Error) => node.logger.warn(`redis store (${role}): ${err.message}`));
    }
    // After every (re)connect: a Redis that restarted empty learns this node's address again.
    pub.on('ready', () => {
      this.sessions.ready();
      this.routes.ready().catch((err: unknown) => node.logger.warn(`redis store: ${String(err)}`));
    });
    const { requests, answers } = this.sessions.channels;
    const ready = Promise.all([pub.connect(), sub.connect()]).then(() =>
      Promise.all([sub.sSubscribe(this.#channel(undefined), this.#listener), sub.sSubscribe([requests, answers], this.#handover), this.routes.ready(), this.#tail()]),
    );
    let timer: ReturnType<typeof setTimeout> | undefined;
    const ms = o.openTimeoutMs ?? 5000;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), ms)));
    try {
      if ((await Promise.race([ready.then(() => 'ready' as const), late])) === 'late') {
        node.logger.warn(`redis store: no answer from Redis within ${ms} ms; starting anyway, other nodes will be heard once it answers`);
        ready.catch((err: unknown) => node.logger.warn(`redis store: ${String(err)}`));
      }
    } finally {
      clearTimeout(timer);
    }
  }

  publish(entry: FanOutEntry): void {
    // From a durable session's handler: it goes out with the batch's commit (durable.ts).
    const batch = Durable.current;
    if (batch) return batch.stage(entry);
    this.#publish(entry);
  }

  /** Delivers a batch's entries here now; the batch's commit publishes them to the other nodes. */
  #stage(entries: FanOutEntry[]): StagedFanout {
    const staged: StagedFanout = { channels: [], texts: [] };
    for (const entry of entries) {
      const seq = ++this.#seq;
      this.#seen.note(this.nodeId, seq);
      this.#node?.deliver({ ...entry, origin: { node: this.nodeId, seq } });
      staged.channels.push(this.#channel(entry.room));
      staged.texts.push(encodeEntry(this.nodeId, seq, entry));
    }
    this.#stats.published += entries.length;
    return staged;
  }

  #publish(entry: FanOutEntry): void {
    const seq = ++this.#seq;
    this.#seen.note(this.nodeId, seq);
    this.#node?.deliver({ ...entry, origin: { node: this.nodeId, seq } });
    const pub = this.#pub;
    if (!pub?.isReady) {
      this.#stats.dropped++;
      return;
    }
    // Into the log and onto the channel in one step (redis-fanout.ts), in publish order.
    this.#stats.published++;
    pub.eval(FANOUT, { keys: [this.#logKey], arguments: [String(this.#options.fanoutLog ?? 100_000), this.#channel(entry.room), encodeEntry(this.nodeId, seq, entry)] }).catch(() => {
      this.#stats.published--;
      this.#stats.dropped++;
    });
  }

  /**
   * Gives session `state` (taken over here) back to the store: it ends here, its links close with
   * 1001, and its state is left unowned, as at a shutdown; its client resumes on the node it
   * reaches, which takes it from where it stood in the fan-out log. A write that fails leaves the
   * record as last committed here, which the next node claims after asking (nothing was told to
   * the client that is not in it).
   */
  #leave(state: SessionState, why: string): void {
    const node = this.#node;
    const left = node?.surrender(state.id, state.keyHash, state.identity, 'session left to the store: try again');
    if (!left) return;
    node!.logger.warn(`redis store: a session that moved here was given back to the store (${why}); its client resumes`, { session: state.id });
    this.sessions.park([left], this.sessions.ttlMs).catch((err: unknown) => node!.logger.warn(`redis store: leaving a session in the store failed; the next node takes its last commit: ${String(err)}`, { session: state.id }));
  }

  skips(id: string, entry: FanOutEntry): boolean {
    return this.#follows.skips(id, entry);
  }

  /** Where the log ends now: this node hears what comes after it live. */
  async #tail(): Promise<void> {
    const last = (await this.#pub!.xRevRange(this.#logKey, '+', '-', { COUNT: 1 })) ?? [];
    if (!this.#live) this.#live = last[0]?.id ?? '0-0';
  }

  get #logKey(): string {
    return `${this.#prefix}:log`;
  }

  watch(room: string, present: boolean): void {
    this.#rooms.watch(room, present);
  }

  /** @internal How many publishing nodes this node remembers (tests). */
  get seenNodes(): number {
    return this.#seen.size;
  }

  /** @internal This node's room subscriptions (tests). */
  get rooms(): RoomSubscriptions {
    return this.#rooms;
  }

  async close(): Promise<void> {
    this.#rooms.close();
    await this.routes.withdraw();
    this.#node = undefined;
    const clients = [this.#sub, this.#pub];
    this.#pub = this.#sub = undefined;
    await Promise.all(clients.map(async (c) => {
      if (!c) return;
      // A graceful close waits for Redis; without one (it is away) there is nothing to wait for,
      // and one that hangs (its connection open, nothing answered) is given a deadline: the
      // shutdown of a node (SIGTERM in a deploy) must end.
      if (c.isReady) await within(c.close(), 'the close').catch(() => c.destroy());
      else if (c.isOpen) c.destroy();
    }));
  }

  #channel(room: string | undefined): string {
    return room === undefined ? `${this.#prefix}:all` : `${this.#prefix}:room:${room}`;
  }

  #onMessage(message: string, channel: string): void {
    const node = this.#node;
    if (!node) return;
    const sp = message.indexOf(' ');
    const id = message.slice(0, sp);
    const entry = sp > 0 && LOG_ID.test(id) ? decodeEntry(message.slice(sp + 1), id, node.readable) : undefined;
    // Never forwarded: a client that cannot decode a message resumes and is sent it again, for ever.
    if (!entry) return void (this.#stats.corrupt++, node.logger.warn('redis store: a fan-out message that is not a well-formed wirefall entry was dropped', { channel }));
    // Entries reach a node in log order, whatever their channels (one Redis, one connection).
    if (idAfter(id, this.#live)) this.#live = id;
    const origin = entry.origin!;
    if (origin.node === this.nodeId) return; // ours: delivered when it was published
    this.#seen.note(origin.node, origin.seq);
    this.#stats.received++;
    node.deliver(entry);
  }
}

/**
 * A store that carries broadcasts and room messages to every node on the same Redis (≥ 7: it uses
 * sharded pub/sub). Needs the `redis` package (node-redis): `npm install redis`.
 * @example
 * import { createServer } from 'wirefall/server';
 * import { redisStore } from 'wirefall/server/redis';
 * const server = createServer<Chat>({ store: redisStore({ url: process.env.REDIS_URL }) });
 */
export function redisStore(options: RedisStoreOptions = {}): RedisStore {
  return new RedisStore(options);
}
