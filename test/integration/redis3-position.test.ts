import { afterEach, describe, expect, test } from 'vitest';
import { redisNode } from '../support/bredis-http';
import { claimed, cleanup, eventually, track } from '../support/harness';
import { rawHello, redisProbe } from '../support/redis-probe';
import { redisForFile } from '../support/redis-server';

/*
 * A moved session's place in the fan-out log (docs/scaling.md §5) is read back from its record:
 * a corrupt one must not make it skip what is published after it arrives. Before the bounds, a
 * place past the log's end skipped every broadcast until the log reached it (years, for this
 * one), and a count of its old node's entries past what that node had published skipped them all.
 */

const redis = redisForFile();
afterEach(cleanup);

const texts = (frames: Record<string, unknown>[]) => frames.filter((f) => f.t === 'msg').map((f) => (f.d as { text?: string }).text);

/**
 * A session on node a, parked by a's shutdown, its record's position replaced by `position(b,
 * c)`; then resumed on node b. Node c is a third node that publishes too.
 */
async function movedWith(prefix: string, position: (b: string, c: string) => object) {
  const a = await redisNode(redis.url, prefix);
  const b = await redisNode(redis.url, prefix);
  const c = await redisNode(redis.url, prefix);
  track(b.server);
  track(c.server);
  const { c: first, welcome } = await rawHello(a.url);
  first.ws.send('{"t":"ack","a":0}');
  await claimed(a.server);
  c.server.broadcast('said', { from: 'c', text: 'before' }); // the log is not empty
  await eventually(() => texts(first.frames).includes('before'), 5000, 'the first broadcast');
  await a.server.close();
  const r = await redisProbe(redis.url);
  await r.hSet(`${prefix}:s:${welcome.sid}`, 'fanout', JSON.stringify(position(b.store.nodeId, c.store.nodeId)));
  const moved = await rawHello(b.url, { sid: welcome.sid, key: welcome.key, ack: 1 });
  expect(moved.welcome.resumed).toBe(true);
  return { b, c, frames: moved.c.frames };
}

describe('a moved session\'s fan-out position read from Redis is bounded', () => {
  test('a place past the log\'s end: broadcasts published after the move still arrive', async () => {
    const { b, c, frames } = await movedWith('redis3-pos-id', (_b, c) => ({ id: '99999999999999-0', node: c, seq: 1 }));
    c.server.broadcast('said', { from: 'c', text: 'from c' });
    b.server.broadcast('said', { from: 'b', text: 'from b' });
    await eventually(() => texts(frames).includes('from c') && texts(frames).includes('from b'), 5000, 'both broadcasts');
    expect(texts(frames).filter((t) => t !== 'from b')).toEqual(['from c']);
    expect(b.store.stats.corrupt).toBe(1);
  });

  test('a place that is no log id at all', async () => {
    const { b, c, frames } = await movedWith('redis3-pos-junk', (_b, c) => ({ id: 'junk', node: c, seq: 1 }));
    c.server.broadcast('said', { from: 'c', text: 'from c' });
    await eventually(() => texts(frames).includes('from c'), 5000, 'the broadcast');
    expect(texts(frames)).toEqual(['from c']);
    expect(b.store.stats.corrupt).toBe(1);
  });

  test('a count of this node\'s entries past what it published: its own broadcasts still arrive', async () => {
    const { b, frames } = await movedWith('redis3-pos-own', (b) => ({ id: '0-0', node: b, seq: 1e12 }));
    b.server.broadcast('said', { from: 'b', text: 'from b' });
    await eventually(() => texts(frames).includes('from b'), 5000, 'the broadcast');
    expect(b.store.stats.corrupt).toBe(1);
  });

  test('a count of another node\'s entries past what it published: its later broadcasts still arrive, once', async () => {
    const { c, frames } = await movedWith('redis3-pos-other', (_b, c) => ({ id: '0-0', node: c, seq: 1e12 }));
    for (let i = 0; i < 3; i++) c.server.broadcast('said', { from: 'c', text: `c${i}` });
    await eventually(() => texts(frames).includes('c2'), 5000, 'the broadcasts');
    // '0-0': the whole log is caught up; c's first broadcast, counted by the (corrupt) count, is not.
    expect(texts(frames)).toEqual(['c0', 'c1', 'c2']);
  });
});
