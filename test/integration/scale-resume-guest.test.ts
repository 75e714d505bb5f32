import { afterEach, describe, expect, test } from 'vitest';
import { cleanup, eventually } from '../support/harness';
import { openSse, twoNodesAndSse } from '../support/bredis-http';
import { redisForFile } from '../support/redis-server';

/*
 * A server without `authenticate` has no users: a session's user is `undefined`, and its record
 * in Redis says `null`. A session taken over from the store came back with user `null`, which did
 * not compare equal to the `undefined` of its client's next hello: any second resume on that node
 * (a link lost again soon after the first move, common when a killed node's clients all arrive
 * at once) got a new session, and its client heard `sessionlost` (7–17 of 5,000 clients in
 * `npm run bench:failover`, none of them streaming).
 */

const redis = redisForFile();
afterEach(cleanup);

const welcome = (frames: Record<string, unknown>[]) => frames.find((f) => f.t === 'welcome') as { sid: string; resumed: boolean } | undefined;

describe('a session taken over from the store, without authenticate', () => {
  test('resumes again on the node that took it: the same session, not a new one', async () => {
    const { b, sid, key } = await twoNodesAndSse(redis.url, 'scale-resume-guest');
    // The client resumes on b: b takes the session over from a, through the store.
    const moved = openSse(b.port, 'up2', { sid, key, ack: 0 });
    await eventually(() => !!welcome(moved.frames), 5000, 'the welcome on b');
    expect(welcome(moved.frames)).toMatchObject({ sid, resumed: true });
    expect(b.store.stats.takeovers).toBe(1);
    // Its link is lost again, and it resumes on b once more.
    const again = openSse(b.port, 'up3', { sid, key, ack: 0 });
    await eventually(() => !!welcome(again.frames), 5000, 'the second welcome on b');
    expect(welcome(again.frames)).toMatchObject({ sid, resumed: true });
  });
});
