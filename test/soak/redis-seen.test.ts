/**
 * Soak: a Redis store remembers, per publishing node, the last fan-out entry it received. Node ids
 * are random per process, so a fleet that restarts for months is a stream of new publishers: the
 * memory must stay bounded however many there have been.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { encodeEntry } from '../../src/server/store/redis-fanout';
import { SEEN_NODES_MAX, SeenNodes } from '../../src/server/store/redis-seen';
import { redisNode } from '../support/bredis-http';
import { cleanup, eventually, track } from '../support/harness';
import { redisProbe } from '../support/redis-probe';
import { redisForFile } from '../support/redis-server';

const redis = redisForFile();
afterEach(cleanup);

describe('the nodes a Redis store has heard from', () => {
  it('stay at most SEEN_NODES_MAX however many nodes published (restarts), and the node still delivers', async () => {
    const prefix = 'soak-seen';
    const a = await redisNode(redis.url, prefix);
    track(a.server);
    const r = await redisProbe(redis.url);
    // Past the bound by half again: each a node that published once and was never heard again.
    const publishers = Math.floor(SEEN_NODES_MAX * 1.5);
    const payload = JSON.stringify({ from: 'x', text: 'hi' });
    for (let i = 0; i < publishers; i++) await r.sPublish(`${prefix}:all`, `${i + 1}-1 ${encodeEntry(`restarted-${i}`, 1, { type: 'said', payload })}`);
    await eventually(() => a.store.stats.received === publishers, 20_000, 'every entry heard');
    // Before the bound: one entry per publisher, 1,536 of them.
    expect(a.store.seenNodes).toBeLessThanOrEqual(SEEN_NODES_MAX);
    // Its own entries are noted as before.
    a.server.broadcast('said', { from: 'a', text: 'own' });
    expect(a.store.stats.published).toBe(1);
    expect(a.store.seenNodes).toBeLessThanOrEqual(SEEN_NODES_MAX);
  });

  it('forgets the node heard from least recently; one heard again is kept', () => {
    const seen = new SeenNodes(3);
    seen.note('a', 1);
    seen.note('b', 1);
    seen.note('c', 1);
    seen.note('a', 2); // heard again: now the most recent
    seen.note('d', 1);
    expect([seen.get('a'), seen.get('b'), seen.get('c'), seen.get('d')]).toEqual([2, 0, 1, 1]);
    expect(seen.size).toBe(3);
  });
});
