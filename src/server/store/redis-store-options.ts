/*
 * What an app gives a Redis store (`redisStore(options)`) and what it reads back (`store.stats`):
 * the store's surface, apart from how it works (redis-store.ts).
 */
import type { RedisClientOptions } from 'redis';

/** Options of `redisStore`. */
export interface RedisStoreOptions {
  /** `redis://host:port` (or `rediss://`); default `redis://127.0.0.1:6379`. */
  url?: string;
  /** More node-redis client options (TLS, credentials, a socket path). `url` wins over `client.url`. */
  client?: RedisClientOptions;
  /** Prefix of every channel, so that several apps can share one Redis. Default `wf`. */
  prefix?: string;
  /**
   * `open` (and so `server.listen`) waits this long for Redis; then the node starts anyway and
   * its fan-out reaches other nodes once Redis answers. Default 5000 ms.
   */
  openTimeoutMs?: number;
  /**
   * The URL other nodes reach this one at, for HTTP-rung requests forwarded to the node that holds
   * a session's link (`http://10.0.0.5:8124`). Default: the address `server.listen` listened on.
   */
  advertise?: string;
  /**
   * About how many fan-out entries the log keeps (`{prefix}:log`), for sessions that move to catch
   * up from. Default 100,000: at 1,000 broadcasts a second, a session may be between nodes 100 s.
   */
  fanoutLog?: number;
  /** @internal How often a node writes its address and its links' holder records again (default 10 min; tests). */
  routesRefreshMs?: number;
}

/** What a Redis store has carried so far: for tests, logs and metrics. */
export interface RedisStoreStats {
  /** Entries this node sent to the other nodes, and those from other nodes delivered here. */
  published: number;
  received: number;
  /** Entries that could not reach the other nodes (Redis unreachable); this node's own sessions still got them. */
  dropped: number;
  /** HTTP-rung requests this node sent on to the node holding their session's link (or ticket). */
  forwarded: number;
  /** Session records written by this node (one per batch). */
  commits: number;
  /** Sessions this node took over from the store (parked, handed over, or left by a killed node). */
  takeovers: number;
  /** Fan-out entries delivered to sessions that moved here from the log (published while they moved). */
  caughtUp: number;
  /** Sessions that moved here and were ended because they missed fan-out entries the log no longer had (their clients hear `sessionlost`). */
  lost: number;
  /**
   * Malformed data found in Redis and never passed on (docs/scaling.md §5): fan-out entries (live
   * or in the log) a client could not decode, session records that do not hold a well-formed
   * session (dropped: their clients get a new session), fan-out positions past the log's end.
   */
  corrupt: number;
  /**
   * Sessions that moved here and went back to the store because this node's subscriptions to
   * their rooms were not in place within 3 s (Redis away or hung): their clients resume (1001).
   */
  givenBack: number;
}
