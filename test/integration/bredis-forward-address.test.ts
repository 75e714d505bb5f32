import { afterEach, describe, expect, test } from 'vitest';
import { redisStore } from '../../src/server/redis';
import { cleanup, eventually, startServer, track } from '../support/harness';
import { openSse, post } from '../support/bredis-http';
import { redisForFile } from '../support/redis-server';

/*
 * A node's address comes from Redis (`advertise`, else where it listens: docs/scaling.md §4). One
 * that is not a usable http(s) URL (an `advertise` without its scheme, a corrupt key) must cost
 * the requests sent there a typed answer, never the process that tried to send them.
 */

const redis = redisForFile();
afterEach(cleanup);

describe('a node address that is not a usable URL', () => {
  for (const advertise of ['node-a:8124', 'ftp://node-a/']) {
    test(`"${advertise}": a request forwarded there is answered 404 session_unknown, and the forwarding node lives on`, async () => {
      const prefix = `bredis-fwd-addr-${advertise.length}`;
      const warnings: string[] = [];
      const a = await startServer({ store: redisStore({ url: redis.url, prefix, advertise }) });
      const b = await startServer({ store: redisStore({ url: redis.url, prefix }), logger: { warn: (m) => warnings.push(m) } });
      track(a.server);
      track(b.server);
      const s = openSse(a.port, 'up1', {});
      await eventually(() => s.frames.some((f) => f.t === 'welcome'), 5000, 'the welcome');
      const { sid, key } = s.frames.find((f) => f.t === 'welcome') as { sid: string; key: string };
      // Before: new URL() or request() threw inside a promise callback: an unhandled rejection,
      // which ends a Node process.
      const r = await post(b.port, `t=sse&sid=${sid}&u=up1&n=1`, `${key}\n{"t":"ack","a":0}`);
      expect({ status: r.status, code: (JSON.parse(r.body) as { code: string }).code }).toEqual({ status: 404, code: 'session_unknown' });
      expect(warnings.some((w) => w.includes(advertise))).toBe(true);
      // b still serves.
      expect((await post(b.port, 't=sse&sid=nobody&u=up1&n=1', 'k\n[]')).status).toBe(404);
    });
  }
});
