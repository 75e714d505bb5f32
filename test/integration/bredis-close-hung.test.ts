import { afterEach, describe, expect, test } from 'vitest';
import { redisStore } from '../../src/server/redis';
import { cleanup, eventually, startServer, track } from '../support/harness';
import { raw } from '../support/raw';
import { redisForFile } from '../support/redis-server';

/*
 * `server.close()` (SIGTERM in a rolling deploy) with a Redis that hangs (SIGSTOP, a frozen VM:
 * its connections stay open, nothing answers). Every Redis command a node waits on has a deadline
 * (docs/scaling.md §3); so must a shutdown, or the process never exits.
 */

const redis = redisForFile();
afterEach(async () => {
  redis.resume();
  await cleanup();
});

describe('a node shutting down while Redis hangs', () => {
  test('server.close() ends within its deadlines; its clients are told (1001)', { timeout: 60_000 }, async () => {
    const prefix = 'bredis-close-hung';
    const warnings: string[] = [];
    const { server, url } = await startServer({ store: redisStore({ url: redis.url, prefix }), logger: { warn: (m) => warnings.push(m) } });
    track({ close: () => void server.close().catch(() => {}) });
    const c = await raw(url);
    c.ws.send('{"t":"hello","v":3}');
    await eventually(() => c.frames.some((f) => f.t === 'welcome'), 5000, 'the welcome');
    redis.pause();
    const started = Date.now();
    const closed = await Promise.race([server.close().then(() => 'closed'), new Promise((r) => setTimeout(() => r('still closing'), 20_000))]);
    // Parking times out after 3 s (a write's deadline); then the store closes as if Redis were away.
    expect({ closed, ms: Date.now() - started < 20_000 }).toEqual({ closed: 'closed', ms: true });
    await eventually(() => c.closed() !== undefined, 5000, 'the client told');
    expect(c.closed()!.code).toBe(1001);
  });
});
