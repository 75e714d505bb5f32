/**
 * `wirefall/server/redis`: the Redis store for `createServer({ store })`, in its own entry so that
 * a server without Redis never loads (or needs) the `redis` package.
 *
 * @example
 * import { createServer } from 'wirefall/server';
 * import { redisStore } from 'wirefall/server/redis';
 * const server = createServer<Chat>({ store: redisStore({ url: 'redis://127.0.0.1:6379' }) });
 */
export { redisStore, RedisStore } from './store/redis-store';
export type { RedisStoreOptions, RedisStoreStats } from './store/redis-store';
export type { SessionStore, FanOutEntry, StoreNode } from './store/types';
