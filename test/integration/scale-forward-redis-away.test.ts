import { afterEach, describe, expect, test } from 'vitest';
import { cleanup, eventually } from '../support/harness';
import { msg, post, twoNodesAndSse } from '../support/bredis-http';
import { redisForFile } from '../support/redis-server';

/*
 * Which node holds a session's HTTP link is read from Redis (docs/scaling.md §4). While Redis
 * cannot answer, a session cannot move (taking it over needs Redis), so the holder last read
 * still holds it. Before, every request that landed on another node during a Redis blip was
 * answered 404 session_unknown, and its client moved its session: ~3,200 of 5,000 sessions for a
 * 3 s outage in `npm run bench:failover` (WF_FAILOVER_MODE=redis). (Its own file: it kills the
 * file's Redis.)
 */

const redis = redisForFile();
afterEach(cleanup);

describe('while Redis is away', () => {
  test('a request that lands on another node still reaches the node that holds its session\'s link', async () => {
    const { b, s, sid, key } = await twoNodesAndSse(redis.url, 'scale-fwd-redis-away');
    // Lands on b, forwarded to a: b reads (and remembers) where the session's link is.
    expect((await post(b.port, `t=sse&sid=${sid}&u=up1&n=1`, `${key}\n${msg(1, 'ping', {})}`)).status).toBe(204);
    await redis.kill();
    const r = await post(b.port, `t=sse&sid=${sid}&u=up1&n=2`, `${key}\n${msg(2, 'ping', {})}`);
    expect({ status: r.status, body: r.body }).toEqual({ status: 204, body: '' });
    expect(b.store.stats.forwarded).toBe(2);
    // a read it, and acknowledges both on the stream.
    await eventually(() => s.frames.some((f) => f.t === 'ack' && f.a === 2), 5000, 'the ack of message 2');
  });
});
