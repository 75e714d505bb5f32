import { afterEach, describe, expect, test } from 'vitest';
import { redisNode } from '../support/bredis-http';
import { cleanup, track } from '../support/harness';
import { rawHello as hello, redisProbe } from '../support/redis-probe';
import { redisForFile } from '../support/redis-server';

/*
 * A session's durable record must live as long as its owner does: it is what a node killed with
 * `kill -9` leaves for the next one (docs/scaling.md §5). A take-over claims a record whose TTL
 * was set by someone else (the parking node, the node that handed it over); the new owner's first
 * write can be a keep-alive a third of `sessionTtlMs` later, when nothing happens meanwhile.
 */

const redis = redisForFile();
afterEach(cleanup);

describe('a session taken over keeps a record that outlives the wait for its first write', () => {
  test('a parked record claimed near the end of its TTL is given the full TTL again', async () => {
    const prefix = 'bredis-ttl-park';
    const ttl = 30_000;
    const a = await redisNode(redis.url, prefix, { sessionTtlMs: ttl });
    const b = await redisNode(redis.url, prefix, { sessionTtlMs: ttl });
    track(b.server);
    const { c: first, welcome } = await hello(a.url);
    first.ws.send('{"t":"ack","a":0}');
    await a.server.close(); // parks the session: its record is unowned, with the session TTL
    const r = await redisProbe(redis.url);
    // Its client comes back late, 3 s before the record would expire.
    await r.pExpire(`${prefix}:s:${welcome.sid}`, 3000);
    const { welcome: again } = await hello(b.url, { sid: welcome.sid, key: welcome.key, ack: 0 });
    expect(again.resumed).toBe(true);
    // Node b owns it now: its record lives as long as a live session's does. (Before, it expired
    // 3 s later, and b's first keep-alive was 10 s away: a kill -9 of b between them lost it.)
    expect(await r.pTTL(`${prefix}:s:${welcome.sid}`)).toBeGreaterThan(ttl / 2);
    await new Promise((done) => setTimeout(done, 3100)); // past the TTL it was claimed with
    expect(await r.exists(`${prefix}:s:${welcome.sid}`)).toBe(1);
  });

  test('a record handed over by a live owner is given the session TTL, not the hand-over\'s', async () => {
    const prefix = 'bredis-ttl-handover';
    const ttl = 300_000;
    const a = await redisNode(redis.url, prefix, { sessionTtlMs: ttl });
    const b = await redisNode(redis.url, prefix, { sessionTtlMs: ttl });
    track(a.server);
    track(b.server);
    const { c: first, welcome } = await hello(a.url);
    first.ws.send('{"t":"ack","a":0}');
    const r = await redisProbe(redis.url);
    const { welcome: again } = await hello(b.url, { sid: welcome.sid, key: welcome.key, ack: 0 });
    expect(again.resumed).toBe(true);
    // Handed over with a 60 s TTL (the asker claims it at once); b's first keep-alive of a quiet
    // session is 100 s away: the record of a live session expired for 40 s before.
    expect(await r.pTTL(`${prefix}:s:${welcome.sid}`)).toBeGreaterThan(ttl / 2);
  });

  test('a live session\'s record outlives its last write by the session TTL and a keep-alive period, so a node that hangs leaves its client a whole TTL', async () => {
    const prefix = 'bredis-ttl-live';
    const ttl = 30_000;
    const a = await redisNode(redis.url, prefix, { sessionTtlMs: ttl });
    track(a.server);
    const { c, welcome } = await hello(a.url);
    c.ws.send('{"t":"ack","a":0}');
    const r = await redisProbe(redis.url);
    // Written every 10 s at the latest (a third of the TTL), with 40 s to live. Before: 30 s, and a
    // node that hung just before its next keep-alive left its client 20 s to find the record.
    const left = await r.pTTL(`${prefix}:s:${welcome.sid}`);
    expect(left).toBeGreaterThan(ttl);
    expect(left).toBeLessThanOrEqual(ttl + ttl / 3);
  });
});

