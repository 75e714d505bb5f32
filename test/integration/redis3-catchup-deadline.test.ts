import { afterEach, describe, expect, test } from 'vitest';
import { SUBSCRIBE_WAIT_MS } from '../../src/server/store/redis-follows';
import { redisNode } from '../support/bredis-http';
import { claimed, cleanup, eventually, track } from '../support/harness';
import { rawHello } from '../support/redis-probe';
import { redisForFile } from '../support/redis-server';

/*
 * A session that moves catches up from the fan-out log once its new node hears its rooms
 * (docs/scaling.md §5). Before, it waited for those subscriptions with no deadline: with Redis
 * away or hung (its subscribing connection), the session's room messages were held for ever. Now,
 * past SUBSCRIBE_WAIT_MS, the session goes back to the store as it came, its link closes with
 * 1001, and the node its client resumes on catches up: nothing lost, nothing doubled.
 */

const redis = redisForFile();
afterEach(cleanup);

const texts = (frames: Record<string, unknown>[]) => frames.filter((f) => f.t === 'msg').map((f) => (f.d as { text?: string }).text);

describe('a moved session waits for its rooms\' subscriptions with a deadline', () => {
  test('past it, the session goes back to the store (1001) and the next node delivers its room messages once', { timeout: 30_000 }, async () => {
    const prefix = 'redis3-catchup';
    const a = await redisNode(redis.url, prefix);
    const b = await redisNode(redis.url, prefix);
    const c = await redisNode(redis.url, prefix);
    for (const n of [a, b, c]) track(n.server);
    const first = await rawHello(a.url);
    first.c.ws.send('{"t":"ack","a":0}');
    const [conn] = await claimed(a.server);
    conn!.join('r');
    // Node b's subscription to room r never comes (as when its subscribing connection hangs).
    b.store.rooms.subscribed = () => new Promise<void>(() => {});
    const { sid, key } = first.welcome;
    const onB = await rawHello(b.url, { sid, key, ack: 0 });
    expect(onB.welcome.resumed).toBe(true);
    a.server.to('r').broadcast('said', { from: 'a', text: 'while b waits' });
    // Before: b held it for ever, and the session stayed there.
    await eventually(() => onB.c.closed() !== undefined, SUBSCRIBE_WAIT_MS + 5000, 'the session given back');
    expect(onB.c.closed()!.code).toBe(1001);
    expect(texts(onB.c.frames)).toEqual([]);
    expect(b.store.stats.givenBack).toBe(1);
    const onC = await rawHello(c.url, { sid, key, ack: 0 });
    expect(onC.welcome.resumed).toBe(true);
    await eventually(() => texts(onC.c.frames).includes('while b waits'), 5000, 'the room message, from the log');
    a.server.to('r').broadcast('said', { from: 'a', text: 'after' });
    await eventually(() => texts(onC.c.frames).includes('after'), 5000, 'the next room message');
    expect(texts(onC.c.frames)).toEqual(['while b waits', 'after']);
  });
});
