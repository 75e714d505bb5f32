import { afterEach, describe, expect, test } from 'vitest';
import type { ApiShape } from '../../src/index';
import type { WirefallServer } from '../../src/server/index';
import { redisStore } from '../../src/server/redis';
import { cleanup, eventually, startServer, track } from '../support/harness';
import { msg, openSse, post } from '../support/bredis-http';
import { redisForFile } from '../support/redis-server';

/*
 * Behind a balancer without stickiness, every request of an HTTP-rung session may land on any
 * node; those of a node that does not hold the session's link are forwarded to the one that does
 * (docs/scaling.md §4). A session that moved from node a to node b left its old link on a for a
 * grace period (its bye waits 2 s, src/server/rung-http.ts): the requests of its new link that
 * land on a must still go to b, not to the old link.
 */

const redis = redisForFile();
afterEach(cleanup);

type Echo = { client: { echo: { n: number } }; server: { echoed: { n: number } } };
const echo = (s: WirefallServer<Echo & ApiShape>) =>
  s.on('connection', (conn) => conn.subscribe('echo', ({ n }) => void conn.send('echoed', { n }).catch(() => {})));

async function twoNodes(prefix: string) {
  const a = await startServer<Echo>({ store: redisStore({ url: redis.url, prefix }) });
  const b = await startServer<Echo>({ store: redisStore({ url: redis.url, prefix }) });
  track(a.server);
  track(b.server);
  echo(a.server);
  echo(b.server);
  return { a, b };
}

const welcomeOf = (frames: Record<string, unknown>[]) => frames.find((f) => f.t === 'welcome') as { sid: string; key: string; resumed: boolean } | undefined;
const echoed = (frames: Record<string, unknown>[]) => frames.filter((f) => f.t === 'msg').map((f) => (f.d as { n: number }).n);

describe('requests of a session that moved go to its new node, on every node', () => {
  test('sse: an uplink POST of the new link that lands on the old node is forwarded, not refused as unknown', async () => {
    const { a, b } = await twoNodes('bredis-fwd-sse');
    const first = openSse(a.port, 'up1', {});
    await eventually(() => !!welcomeOf(first.frames), 5000, 'the welcome on a');
    const { sid, key } = welcomeOf(first.frames)!;
    expect((await post(a.port, `t=sse&sid=${sid}&u=up1&n=1`, `${key}\n${msg(1, 'echo', { n: 1 })}`)).status).toBe(204);
    await eventually(() => echoed(first.frames).includes(1), 5000, 'echo 1');
    // The client resumes on b: a hands the session over.
    const moved = openSse(b.port, 'up2', { sid, key, ack: 1 });
    await eventually(() => !!welcomeOf(moved.frames), 5000, 'the welcome on b');
    expect(welcomeOf(moved.frames)!.resumed).toBe(true);
    // Its next POST lands on a (before: 404 session_unknown from a's old link, and the client
    // gave its new link up for a dead one, moving the session again).
    const r = await post(a.port, `t=sse&sid=${sid}&u=up2&n=1`, `${key}\n${msg(2, 'echo', { n: 2 })}`);
    expect({ status: r.status, body: r.body }).toEqual({ status: 204, body: '' });
    await eventually(() => echoed(moved.frames).includes(2), 5000, 'echo 2 on b');
  });

  test('longpoll: a poll of the new link that lands on the old node gets the new link\'s messages, not the old link\'s bye', async () => {
    const { a, b } = await twoNodes('bredis-fwd-lp');
    const opened = await post(a.port, 't=lp&u=up1', JSON.stringify({ t: 'hello', v: 3 }));
    const { sid, key } = welcomeOf(JSON.parse(opened.body) as Record<string, unknown>[])!;
    expect((await post(a.port, `t=lp&sid=${sid}&u=up1&n=1`, `${key}\n${msg(1, 'echo', { n: 1 })}`)).status).toBe(204);
    expect(echoed(JSON.parse((await post(a.port, `t=lp&sid=${sid}&poll=1`, key)).body) as Record<string, unknown>[])).toEqual([1]);
    // The client resumes on b, having had echo 1: a hands the session over.
    const moved = await post(b.port, 't=lp&u=up2', JSON.stringify({ t: 'hello', v: 3, sid, key, ack: 1 }));
    expect(welcomeOf(JSON.parse(moved.body) as Record<string, unknown>[])?.resumed).toBe(true);
    // Its next poll lands on a, its next POST on b. The poll must carry b's answer (before: it was
    // held by a's old link, and answered with that link's bye 4409 when its grace ended).
    const poll = post(a.port, `t=lp&sid=${sid}&poll=1`, key);
    expect((await post(b.port, `t=lp&sid=${sid}&u=up2&n=1`, `${key}\n${msg(2, 'echo', { n: 2 })}`)).status).toBe(204);
    const answer = await poll;
    const frames = JSON.parse(answer.body) as Record<string, unknown>[];
    expect(answer.status).toBe(200);
    expect(frames.filter((f) => f.t === 'bye')).toEqual([]);
    expect(echoed(frames)).toEqual([2]);
  });
});
