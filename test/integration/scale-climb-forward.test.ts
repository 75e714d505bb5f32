import { createServer, type Socket } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { cleanup, eventually, track } from '../support/harness';
import { msg, openSse, post, twoNodesAndSse } from '../support/bredis-http';
import { redisForFile } from '../support/redis-server';

/*
 * A resume that opens an HTTP rung on a node other than the one holding the session's live HTTP
 * link: a climb (long-polling to SSE) or a second attempt of a race, landing there through a
 * balancer without stickiness. On one node such a link is parked beside the live one until the
 * client speaks on it (session-links.ts): a climb that never verifies (an event stream held back
 * by a buffering proxy) costs nothing. Across nodes the hello took the session over from the store
 * at once: the live link's node lost it, its link answered 404, and the client resumed, only for
 * its next climb to do it again (49 moves in 60 s for 8 clients, bench/chaos.mjs). Now the open
 * is forwarded to the node that holds the live link, as the session's other requests are.
 */

const redis = redisForFile();
afterEach(cleanup);

describe('a resume that opens an HTTP rung on another node than its live link', () => {
  test('reaches the node with the live link: the session stays there and its live link keeps working', async () => {
    const { a, b, s, sid, key } = await twoNodesAndSse(redis.url, 'scale-climb-fwd');
    // The client speaks on its stream's uplink: the session is claimed, the app's.
    expect((await post(a.port, `t=sse&sid=${sid}&u=up1&n=1`, `${key}\n${msg(1, 'ping', {})}`)).status).toBe(204);
    const live = [...a.server.connections][0]!;
    const ends: string[] = [];
    live.on('close', (reason) => ends.push(reason));
    // The climb's open lands on b; it never speaks on it (its welcome may never reach it).
    const climb = openSse(b.port, 'up2', { sid, key, ack: 0 });
    await eventually(() => climb.frames.some((f) => f.t === 'welcome'), 5000, 'the climb\'s welcome');
    expect(climb.frames.find((f) => f.t === 'welcome')).toMatchObject({ sid, resumed: true });
    // Before: b took the session over (a's ended as moved, its stream was cut).
    expect(b.store.stats.takeovers).toBe(0);
    expect([...b.server.connections]).toHaveLength(0);
    expect(ends).toEqual([]);
    // The live link still carries the session's messages.
    void live.send('said', { from: 'a', text: 'still here' }).catch(() => {});
    await eventually(() => s.frames.some((f) => f.t === 'msg' && (f.d as { text?: string })?.text === 'still here'), 5000, 'the message on the live stream');
    // The climb is given up: the session stays on a, on its live link.
    climb.close();
    void live.send('said', { from: 'a', text: 'and here' }).catch(() => {});
    await eventually(() => s.frames.some((f) => f.t === 'msg' && (f.d as { text?: string })?.text === 'and here'), 5000, 'the next message on the live stream');
    expect(ends).toEqual([]);
  });

  test('is taken over where it lands when the node that held its link is gone', async () => {
    const { a, b, sid, key } = await twoNodesAndSse(redis.url, 'scale-climb-fwd-gone');
    // b learns a's address (a POST it forwards there), which it keeps a minute.
    expect((await post(b.port, `t=sse&sid=${sid}&u=up1&n=1`, `${key}\n${msg(1, 'ping', {})}`)).status).toBe(204);
    // The holder's record outlives it (a kill -9 leaves it in Redis until its TTL).
    await a.server.close();
    const again = openSse(b.port, 'up2', { sid, key, ack: 0 });
    await eventually(() => again.frames.some((f) => f.t === 'welcome'), 10_000, 'the welcome');
    expect(again.frames.find((f) => f.t === 'welcome')).toMatchObject({ sid, resumed: true });
    // It was sent to a's address (refused there), then taken over here.
    expect(b.store.stats.forwarded).toBe(2);
    expect(b.store.stats.takeovers).toBe(1);
  });

  test('is taken over where it lands when the node that holds its link does not answer (hung)', async () => {
    const { a, b, sid, key } = await twoNodesAndSse(redis.url, 'scale-climb-fwd-hung');
    expect((await post(b.port, `t=sse&sid=${sid}&u=up1&n=1`, `${key}\n${msg(1, 'ping', {})}`)).status).toBe(204);
    await a.server.close();
    // At a's address now, a node that takes connections and never answers (SIGSTOPped).
    const held: Socket[] = [];
    const hung = createServer((socket) => void held.push(socket));
    await new Promise<void>((resolve) => hung.listen(a.port, '127.0.0.1', resolve));
    track({ close: () => void (held.forEach((c) => c.destroy()), hung.close()) });
    const started = Date.now();
    const again = openSse(b.port, 'up2', { sid, key, ack: 0 });
    await eventually(() => again.frames.some((f) => f.t === 'welcome'), 10_000, 'the welcome');
    expect(again.frames.find((f) => f.t === 'welcome')).toMatchObject({ sid, resumed: true });
    expect(held.length).toBeGreaterThan(0);
    expect(b.store.stats.takeovers).toBe(1);
    // Within the client's 5 s open timeout (the wait is 1.5 s).
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
