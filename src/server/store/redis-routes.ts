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
  /** Requests this node sent to another one. */
  forwarded = 0;

  constructor(parts: { pub: () => Client | undefined; prefix: string; nodeId: string; advertise: string | undefined; node: () => StoreNode | undefined }) {
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
    const pub = this.#pub()!;
    const key = `${this.#prefix}:secret`;
    await within(pub.set(key, randomBytes(24).toString('base64url'), { condition: 'NX' }), 'the shared secret');
    this.#secret = (await within(pub.get(key), 'the shared secret')) ?? undefined;
    if (this.#announced) await this.announce(this.#announced);
  }

  async announce(url: string): Promise<void> {
    this.#announced = this.#advertise ?? url;
    const pub = this.#pub();
    if (pub?.isReady) await within(pub.set(`${this.#prefix}:addr:${this.nodeId}`, this.#announced, { expiration: { type: 'EX', value: 86_400 } }), 'the node address');
  }

  /** Forgets this node's address (it stops). */
  async withdraw(): Promise<void> {
    const pub = this.#pub();
    if (pub?.isReady) await pub.del(`${this.#prefix}:addr:${this.nodeId}`).catch(() => 0);
  }

  async node(id: string): Promise<string | undefined> {
    const pub = this.#pub();
    if (!pub?.isReady || id === this.nodeId) return undefined;
    const address = (await within(pub.get(`${this.#prefix}:addr:${id}`), 'a node address')) ?? undefined;
    if (address) this.forwarded++;
    return address;
  }

  async owner(sid: string): Promise<string | undefined> {
    const pub = this.#pub();
    if (!pub?.isReady) return undefined;
    let holder = await within(pub.get(this.#key(sid)), 'a link holder');
    // The welcome can outrun the record by a hair: the client answers it on another node at once.
    if (holder === null) holder = await new Promise<string | null>((r) => setTimeout(() => void within(pub.get(this.#key(sid)), 'a link holder').then(r, () => r(null)), 50));
    return holder === null ? undefined : this.node(holder);
  }

  own(sid: string, held: boolean): void {
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
