import { afterEach, describe, expect, test } from 'vitest';
import { MAX_PENDING } from '../../src/server/store/redis-rooms';
import { redisNode } from '../support/bredis-http';
import { claimed, cleanup, client, eventually, track, until } from '../support/harness';
import { redisProbe } from '../support/redis-probe';
import { redisForFile } from '../support/redis-server';

/*
 * The subscribing connection to Redis (docs/scaling.md §3): node-redis queues SSUBSCRIBE and
 * SUNSUBSCRIBE whatever its offline-queue option, and past its queue bound. Before, every room
 * joined or left during an outage (or while Redis hung) was one more queued command, and all of
 * them reached Redis afterwards; now the node sends only the difference between the rooms it has
 * members in and what it is subscribed to, at most MAX_PENDING commands at a time.
 */

const redis = redisForFile();
afterEach(() => {
  redis.resume();
  return cleanup();
});

type Probe = Awaited<ReturnType<typeof redisProbe>>;

/** Calls of `command` Redis counted since it started (INFO commandstats). */
async function calls(r: Probe, command: string): Promise<number> {
  const m = new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(await r.info('commandstats'));
  return m ? Number(m[1]) : 0;
}

/** Waits until the room channels Redis has subscribers for under `prefix` are those of `rooms`. */
async function channelsAre(prefix: string, rooms: string[]): Promise<Probe> {
  const want = rooms.map((room) => `${prefix}:room:${room}`).sort().join();
  let r: Probe | undefined;
  let now = '';
  const end = Date.now() + 15_000;
  while (now !== want) {
    if (Date.now() > end) throw new Error(`subscribed to ${now}, not ${want}`);
    try {
      r ??= await redisProbe(redis.url);
      now = ((await r.sendCommand(['PUBSUB', 'SHARDCHANNELS', `${prefix}:room:*`])) as string[]).sort().join();
    } catch {
      // Redis is starting again.
    }
    await new Promise((done) => setTimeout(done, 50));
  }
  return r!;
}

/** Node a with a member `conn`, node b to publish from, and what the member heard. */
async function member(prefix: string) {
  const a = await redisNode(redis.url, prefix);
  const b = await redisNode(redis.url, prefix);
  track(a.server);
  track(b.server);
  const c = client(a.url);
  const got: string[] = [];
  c.subscribe('said', ({ text }) => void got.push(text));
  await until(c, 'open');
  const [conn] = await claimed(a.server);
  return { a, b, conn: conn!, got };
}

/** b publishes to `room` until the member hears it (b's own connection may still be coming back). */
async function heardFrom(b: Awaited<ReturnType<typeof member>>['b'], room: string, got: string[]) {
  for (const end = Date.now() + 15_000; !got.includes(room); await new Promise((r) => setTimeout(r, 200))) {
    if (Date.now() > end) throw new Error(`nothing heard in ${room}`);
    b.server.to(room).broadcast('said', { from: 'b', text: room });
  }
}

describe('the subscribing connection queues nothing for Redis', () => {
  test('rooms joined and left while Redis is away: on its return the node subscribes to the rooms it has members in, and only those', { timeout: 60_000 }, async () => {
    const prefix = 'redis3-sub-away';
    const { b, conn, got } = await member(prefix);
    conn.join('left-meanwhile');
    await channelsAre(prefix, ['left-meanwhile']);
    await redis.kill();
    for (let i = 0; i < 500; i++) {
      conn.join(`r${i}`);
      if (i >= 10) conn.leave(`r${i}`);
    }
    conn.leave('left-meanwhile');
    await redis.restart(); // empty: its counts start at zero
    const rooms = Array.from({ length: 10 }, (_, i) => `r${i}`);
    const r = await channelsAre(prefix, rooms);
    // Before: 500 SSUBSCRIBE and 491 SUNSUBSCRIBE, queued during the outage, reached Redis. Now
    // at most what was sent before the node noticed the outage, the rooms, and the nodes' own channels.
    expect(await calls(r, 'ssubscribe')).toBeLessThanOrEqual(MAX_PENDING + 20);
    expect(await calls(r, 'sunsubscribe')).toBeLessThanOrEqual(MAX_PENDING + 1);
    await heardFrom(b, 'r5', got);
  });

  test('while Redis hangs, at most MAX_PENDING commands wait on the connection; then the difference is sent', { timeout: 60_000 }, async () => {
    const prefix = 'redis3-sub-hang';
    const { a, b, conn, got } = await member(prefix);
    const r = await redisProbe(redis.url);
    const before = { sub: await calls(r, 'ssubscribe'), unsub: await calls(r, 'sunsubscribe') };
    redis.pause();
    for (let i = 0; i < 500; i++) {
      conn.join(`r${i}`);
      if (i >= 10) conn.leave(`r${i}`);
    }
    expect(a.store.rooms.pending).toBeLessThanOrEqual(MAX_PENDING);
    redis.resume();
    await channelsAre(prefix, Array.from({ length: 10 }, (_, i) => `r${i}`));
    // Before: every join and leave was sent (500 and 490).
    expect(await calls(r, 'ssubscribe') - before.sub).toBeLessThanOrEqual(MAX_PENDING + 10);
    expect(await calls(r, 'sunsubscribe') - before.unsub).toBeLessThanOrEqual(MAX_PENDING);
    await heardFrom(b, 'r9', got);
  });
});
