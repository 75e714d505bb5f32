import { createClient } from 'redis';
import { afterEach, describe, expect, test } from 'vitest';
import { redisStore } from '../../src/server/redis';
import { cleanup, eventually, startServer, track } from '../support/harness';
import { openSse, post } from '../support/bredis-http';
import { redisForFile } from '../support/redis-server';

/*
 * Where HTTP-rung requests go (docs/scaling.md §4) is kept in Redis with TTLs, so that a node
 * killed with `kill -9` leaves nothing behind for ever: a node's address (24 h) and the holder of
 * each session's HTTP link (1 h). A node that lives longer, or a link that does, must keep them:
 * once one expired, every request of its sessions that landed on another node was answered `404
 * session_unknown`, and their clients moved them again (for an SSE stream open an hour, at its
 * next POST; for a node up a day, for all of them).
 */

const redis = redisForFile();
afterEach(cleanup);

describe('routing records of a live node and a live link are kept', () => {
  test('its address and its link\'s holder record are written again before they expire; requests are forwarded as before', async () => {
    const prefix = 'bredis-route-ttl';
    const aStore = redisStore({ url: redis.url, prefix, routesRefreshMs: 200 });
    const a = await startServer({ store: aStore });
    const b = await startServer({ store: redisStore({ url: redis.url, prefix, routesRefreshMs: 200 }) });
    track(a.server);
    track(b.server);
    const s = openSse(a.port, 'up1', {});
    await eventually(() => s.frames.some((f) => f.t === 'welcome'), 5000, 'the welcome');
    const { sid, key } = s.frames.find((f) => f.t === 'welcome') as { sid: string; key: string };
    const r = createClient({ url: redis.url });
    track({ close: () => r.close().then(() => {}, () => {}) });
    await r.connect();
    const addr = `${prefix}:addr:${aStore.nodeId}`;
    const holder = `${prefix}:http:${sid}`;
    expect(await r.get(holder)).toBe(aStore.nodeId);
    // A day (an hour) has passed: both are about to expire.
    await r.pExpire(addr, 300);
    await r.pExpire(holder, 300);
    let ttls: number[] = [];
    const read = () => void Promise.all([r.pTTL(addr), r.pTTL(holder)]).then((t) => (ttls = t));
    await eventually(() => (read(), ttls.length === 2 && ttls.every((t) => t > 60_000)), 5000, 'both written again with their TTLs');
    // And the session's POSTs through b still reach it.
    expect((await post(b.port, `t=sse&sid=${sid}&u=up1&n=1`, `${key}\n{"t":"ack","a":0}`)).status).toBe(204);
  });
});
