import { createClient } from 'redis';
import { afterEach, describe, expect, test } from 'vitest';
import { redisStore } from '../../src/server/redis';
import { cleanup, eventually, startServer, track } from '../support/harness';
import { raw } from '../support/raw';
import { redisForFile } from '../support/redis-server';

/*
 * Redis restarts empty (no persistence). A session whose commits failed meanwhile writes itself
 * whole again within a second of Redis's return (docs/scaling.md §3); so must a quiet one, which
 * tried no commit meanwhile: until it is written again, a `kill -9` of its node loses it. Before,
 * its first write was its keep-alive, up to a third of `sessionTtlMs` later (20 s by default).
 */

const redis = redisForFile();
afterEach(cleanup);

describe('after Redis restarts empty, a quiet session', () => {
  test('is written whole again within seconds, not at its next keep-alive', { timeout: 30_000 }, async () => {
    const prefix = 'bredis-rewrite';
    const { server, url } = await startServer({ store: redisStore({ url: redis.url, prefix }), sessionTtlMs: 120_000 });
    track(server);
    const c = await raw(url);
    c.ws.send('{"t":"hello","v":3}');
    await eventually(() => c.frames.some((f) => f.t === 'welcome'), 5000, 'the welcome');
    const { sid } = c.frames.find((f) => f.t === 'welcome') as { sid: string };
    c.ws.send('{"t":"ack","a":0}');
    await redis.kill();
    await redis.restart();
    const r = createClient({ url: redis.url });
    track({ close: () => r.close().then(() => {}, () => {}) });
    await r.connect();
    let there = 0;
    await eventually(() => (void r.exists(`${prefix}:s:${sid}`).then((n) => (there = n)), there === 1), 10_000, 'the record written again');
    expect(await r.hGet(`${prefix}:s:${sid}`, 'epoch')).toBe('1');
    expect(c.closed()).toBeUndefined();
  });
});
