import { afterEach, describe, expect, test } from 'vitest';
import type { Client } from '../../src/index';
import { cleanup, client, track, until } from '../support/harness';
import { startNode } from '../support/cluster';
import type { ClusterApi } from '../support/cluster-node';
import { redisForFile } from '../support/redis-server';

/*
 * A Redis that hangs (SIGSTOP: its connections stay open, nothing is answered) is worse than one
 * that goes away: nothing tells the node. Every Redis command a hello or a request waits on has a
 * deadline (src/server/store/redis-deadline.ts), so the node goes on from memory: new clients are
 * served on every rung, old ones keep talking, and all is durable again once Redis answers.
 */
const redis = redisForFile();
afterEach(() => {
  redis.resume();
  return cleanup();
});

function echoer(url: string, name: string, rung: 'ws' | 'sse' | 'longpoll') {
  const c: Client<ClusterApi> = client<ClusterApi>(url, { transports: [rung], auth: name });
  const heard: number[] = [];
  c.subscribe('echoed', ({ n }) => heard.push(n));
  return { c, heard };
}

describe('Redis hangs', () => {
  test('a node whose Redis stops answering still opens sessions on every rung and serves the old ones; it recovers when Redis answers', { timeout: 90_000 }, async () => {
    const node = track(await startNode('n0', redis.url));
    const before = echoer(node.url, 'before', 'ws');
    await until(before.c, 'open', 10_000);
    await before.c.send('echo', { n: 0 });

    redis.pause();
    const during = (['ws', 'sse', 'longpoll'] as const).map((rung) => echoer(node.url, `during-${rung}`, rung));
    // Each hello waits for its session's first write, up to the Redis deadline (3 s), then runs from memory.
    await Promise.all(during.map((d) => until(d.c, 'open', 30_000)));
    await Promise.all([before, ...during].map((d) => d.c.send('echo', { n: 1 })));
    expect(node.alive()).toBe(true);

    redis.resume();
    await before.c.send('echo', { n: 2 });
    const after = echoer(node.url, 'after', 'longpoll');
    await until(after.c, 'open', 15_000);
    await after.c.send('echo', { n: 3 });
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline && (before.heard.length < 3 || during.some((d) => d.heard.length < 1) || after.heard.length < 1)) await new Promise((r) => setTimeout(r, 50));
    expect(before.heard).toEqual([0, 1, 2]);
    expect(during.map((d) => d.heard)).toEqual([[1], [1], [1]]);
    expect(after.heard).toEqual([3]);
    expect(node.alive()).toBe(true);
    expect(node.log.some((l) => l.includes('did not answer'))).toBe(true);
  });
});
