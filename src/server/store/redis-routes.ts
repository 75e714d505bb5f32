import { randomBytes } from 'node:crypto';
import type { createClient } from 'redis';
import type { RequestRoutes } from '../http-forward';
import type { StoreNode } from './types';
import { within } from './redis-deadline';

type Client = ReturnType<typeof createClient>;

/** Deletes the holder record only if it is still ours: a link gone here must not erase the node it moved to. */
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;
/** Records outlive links only as long as a node that was killed could leave one behind. */
const RECORD_TTL_S = 3600;
/** A node's address outlives the node as long (a node that was killed cannot withdraw it). */
const ADDRESS_TTL_S = 86_400;
/**
 * A live node writes its address and its links' holder records again this often, well within their
 * TTLs: they expired while the node (a day) or the link (an SSE stream open an hour) lived on.
 */
const REFRESH_MS = 10 * 60_000;
/** Holder records written again per round trip: the publishing connection's queue is bounded. */
const REFRESH_CHUNK = 500;
/** Keeps the holder record of a link this node still holds: ours (or lost with a Redis restart). */
const KEEP = `local v = redis.call('GET', KEYS[1])
if v and v ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return 1`;

/** How long a node's address read from Redis is used without reading it again, and how many are kept. */
const ADDRESS_KEPT_MS = 60_000;
const ADDRESSES_KEPT = 1024;
/** How long a session's holder, as last read, stands in while Redis cannot answer; how many are kept. */
const HOLDER_KEPT_MS = 30_000;
const HOLDERS_KEPT = 16_384;
/** How long after Redis came back a missing holder record may just not be written again yet. */
const REWRITE_WINDOW_MS = 5000;

/**
 * Where HTTP-rung requests go, over Redis: `{prefix}:addr:{node}` (each node's address),
 * `{prefix}:http:{sid}` (the node holding a session's HTTP link) and `{prefix}:secret` (what nodes
 * prove themselves with to each other, chosen by the first node: whoever can read Redis is a node).
 */
export class RedisRoutes implements RequestRoutes {
  readonly nodeId: string;
  #secret: string | undefined;
  #pub: () => Client | undefined;
  #prefix: string;
  #advertise: string | undefined;
  #node: () => StoreNode | undefined;
  #announced: string | undefined;
  /** Sessions whose HTTP link this node holds (their holder records are kept while it does). */
  #held = new Set<string>();
  #refresh: ReturnType<typeof setInterval> | undefined;
  #refreshMs: number;
  #withdrawn = false;
  /** Requests this node sent to another one. */
  forwarded = 0;
  /**
   * Node addresses read lately: a node's id is new with each process and its address never
   * changes, so every forwarded request need not read it again (it was one more Redis round trip
   * before each forward). A node gone meanwhile is found as before: the forward fails.
   */
  #addresses = new Map<string, { address: string; until: number }>();
  /**
   * Each session's holder as last read here. Used only while Redis cannot answer: a session
   * cannot move then (taking it over needs Redis), so its holder is still the one read. Without
   * it, every HTTP-rung request landing on another node during a Redis blip was answered
   * `session_unknown`, and its client moved the session (~3,200 of 5,000 sessions for a 3 s
   * outage in `npm run bench:failover` with WF_FAILOVER_MODE=redis).
   */
  #holders = new Map<string, { node: string; until: number }>();
  /** When the publishing connection was last ready (again). */
  #backAt = 0;

  constructor(parts: { pub: () => Client | undefined; prefix: string; nodeId: string; advertise: string | undefined; node: () => StoreNode | undefined; refreshMs?: number }) {
    this.#refreshMs = parts.refreshMs ?? REFRESH_MS;
    this.nodeId = parts.nodeId;
    this.#pub = parts.pub;
    this.#prefix = parts.prefix;
    this.#advertise = parts.advertise;
    this.#node = parts.node;
  }

  get secret(): string | undefined {
    return this.#secret;
  }

  /** Reads (or, first of all nodes, chooses) the shared secret; then re-announces (after a Redis restart). */
  async ready(): Promise<void> {
    this.#backAt = Date.now();
    const pub = this.#pub()!;
    const key = `${this.#prefix}:secret`;
    await within(pub.set(key, randomBytes(24).toString('base64url'), { condition: 'NX' }), 'the shared secret');
    this.#secret = (await within(pub.get(key), 'the shared secret')) ?? undefined;
    // Back after a restart that lost everything: the address, and the links this node holds.
    if (this.#announced) await this.#keep();
  }

  async announce(url: string): Promise<void> {
    this.#announced = this.#advertise ?? url;
    const pub = this.#pub();
    if (pub?.isReady) await within(pub.set(`${this.#prefix}:addr:${this.nodeId}`, this.#announced, { expiration: { type: 'EX', value: ADDRESS_TTL_S } }), 'the node address');
    if (this.#withdrawn || this.#refresh) return;
    this.#refresh = setInterval(() => void this.#keep(), this.#refreshMs);
    this.#refresh.unref?.();
  }

  /** Writes this node's address and its links' holder records again (each with its TTL). */
  async #keep(): Promise<void> {
    const pub = this.#pub();
    if (!pub?.isReady || !this.#announced) return;
    try {
      await this.announce(this.#announced);
      const sids = [...this.#held];
      for (let i = 0; i < sids.length; i += REFRESH_CHUNK) {
        const chunk = sids.slice(i, i + REFRESH_CHUNK).filter((sid) => this.#held.has(sid));
        await within(Promise.all(chunk.map((sid) => pub.eval(KEEP, { keys: [this.#key(sid)], arguments: [this.nodeId, String(RECORD_TTL_S)] }))), 'link holder records');
      }
    } catch (err) {
      this.#node()?.logger.warn(`redis store: keeping this node's routing records failed (retried in ${this.#refreshMs} ms): ${String(err)}`);
    }
  }

  /** Forgets this node's address (it stops). */
  async withdraw(): Promise<void> {
    this.#withdrawn = true;
    clearInterval(this.#refresh);
    const pub = this.#pub();
    // Under a deadline: a Redis that hangs must not hold a shutdown for ever (the address expires).
    if (pub?.isReady) await within(pub.del(`${this.#prefix}:addr:${this.nodeId}`), 'withdrawing the node address').catch(() => 0);
  }

  async node(id: string): Promise<string | undefined> {
    if (id === this.nodeId) return undefined;
    const pub = this.#pub();
    const now = Date.now();
    const known = this.#addresses.get(id);
    let address = known && (now < known.until || !pub?.isReady) ? known.address : undefined;
    if (!address && pub?.isReady) {
      address = (await within(pub.get(`${this.#prefix}:addr:${id}`), 'a node address')) ?? undefined;
      if (this.#addresses.size >= ADDRESSES_KEPT) this.#addresses.clear();
      if (address) this.#addresses.set(id, { address, until: now + ADDRESS_KEPT_MS });
    }
    if (address) this.forwarded++;
    return address;
  }

  async owner(sid: string): Promise<string | undefined> {
    const pub = this.#pub();
    if (pub?.isReady) {
      try {
        let holder = await within(pub.get(this.#key(sid)), 'a link holder');
        // The welcome can outrun the record by a hair: the client answers it on another node at once.
        if (holder === null) holder = await new Promise<string | null>((r) => setTimeout(() => void within(pub.get(this.#key(sid)), 'a link holder').then(r, () => r(null)), 50));
        if (holder !== null) {
          if (this.#holders.size >= HOLDERS_KEPT) this.#holders.clear();
          this.#holders.set(sid, { node: holder, until: Date.now() + HOLDER_KEPT_MS });
          return this.node(holder);
        }
        // Nobody holds a link of it, unless Redis came back empty moments ago and the holders
        // have not written their records again yet (`#keep`).
        if (Date.now() - this.#backAt >= REWRITE_WINDOW_MS) return void this.#holders.delete(sid);
      } catch {
        // Redis did not answer in time: as when it is away.
      }
    }
    const known = this.#holders.get(sid);
    return known && Date.now() < known.until ? this.node(known.node) : undefined;
  }

  own(sid: string, held: boolean): void {
    if (held) this.#held.add(sid);
    else this.#held.delete(sid);
    const pub = this.#pub();
    if (!pub?.isReady) return;
    const done = held
      ? pub.set(this.#key(sid), this.nodeId, { expiration: { type: 'EX', value: RECORD_TTL_S } })
      : pub.eval(RELEASE, { keys: [this.#key(sid)], arguments: [this.nodeId] });
    done.catch((err: unknown) => this.#node()?.logger.warn(`redis store: recording an HTTP link failed: ${String(err)}`));
  }

  #key(sid: string): string {
    return `${this.#prefix}:http:${sid}`;
  }
}
