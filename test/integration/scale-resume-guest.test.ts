import { afterEach, describe, expect, test } from 'vitest';
import { cleanup, eventually, track } from '../support/harness';
import { openSse, post, redisNode, twoNodesAndSse } from '../support/bredis-http';
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
    const { a, b, sid, key } = await twoNodesAndSse(redis.url, 'scale-resume-guest');
    // Its node goes (a live link's node would be forwarded the resume: scale-climb-forward).
    await a.server.close();
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

describe('a session taken over from the store whose resuming link is lost before the client spoke on it', () => {
  test('waits for its client\'s next resume, as any session that lost its link: it is not reaped as a lost race\'s leftover', async () => {
    const prefix = 'scale-resume-unclaimed';
    // helloTimeoutMs: how long a new session may stay unclaimed (a race's leftover) before it ends.
    const a = await redisNode(redis.url, prefix, { helloTimeoutMs: 300 });
    const b = await redisNode(redis.url, prefix, { helloTimeoutMs: 300 });
    track(a.server);
    track(b.server);
    const first = openSse(a.port, 'up1', {});
    await eventually(() => !!welcome(first.frames), 5000, 'the welcome on a');
    const { sid, key } = first.frames.find((f) => f.t === 'welcome') as { sid: string; key: string };
    // The client speaks: the session is claimed on a.
    expect((await post(a.port, `t=sse&sid=${sid}&u=up1&n=1`, `${key}\n{"t":"ack","a":0}`)).status).toBe(204);
    first.close();
    // It resumes on b, which takes the session over; that link is lost before the client could
    // say a word on it (as when a crowd of clients arrives from a node that hung).
    const lostLink = openSse(b.port, 'up2', { sid, key, ack: 0 });
    await eventually(() => !!welcome(lostLink.frames), 5000, 'the welcome on b');
    expect(welcome(lostLink.frames)).toMatchObject({ sid, resumed: true });
    lostLink.close();
    // Well past helloTimeoutMs. Before: b ended the session as "never claimed by its client" and
    // dropped its record, and the client's next resume got a new session (sessionlost).
    await new Promise((r) => setTimeout(r, 1000));
    const again = openSse(a.port, 'up3', { sid, key, ack: 0 });
    await eventually(() => !!welcome(again.frames), 5000, 'the welcome on a again');
    expect(welcome(again.frames)).toMatchObject({ sid, resumed: true });
  });
});
