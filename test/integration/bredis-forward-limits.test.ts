import { afterEach, describe, expect, test } from 'vitest';
import { cleanup } from '../support/harness';
import { post, twoNodesAndSse } from '../support/bredis-http';
import { redisForFile } from '../support/redis-server';

/*
 * An uplink POST over the body limit is refused with `413 too_large` (docs/errors.md), on the node
 * that holds the session and on any node that forwards it there (docs/scaling.md §4).
 */

const redis = redisForFile();
afterEach(cleanup);

describe('a forwarded request over the body limit', () => {
  test('is refused 413 too_large, as on the node that holds the session (not 404 session_unknown)', async () => {
    const prefix = 'bredis-fwd-limit';
    const { b, s, sid, key } = await twoNodesAndSse(redis.url, prefix);
    const big = `${key}\n${'x'.repeat(3 * 1024 * 1024)}`;
    // Sent on, a node that refused it dropped the connection with the body unread: the reset
    // reached the forwarding node before the 413 did, in 2 of 3 tries (it answered 404).
    for (let i = 0; i < 5; i++) {
      const r = await post(b.port, `t=sse&sid=${sid}&u=up1&n=1`, big);
      expect({ status: r.status, code: (JSON.parse(r.body) as { code: string }).code }).toEqual({ status: 413, code: 'too_large' });
    }
    // The session is untouched: its next POST, through b, is delivered.
    expect((await post(b.port, `t=sse&sid=${sid}&u=up1&n=1`, `${key}\n{"t":"ack","a":0}`)).status).toBe(204);
    expect(s.frames.some((f) => f.t === 'bye')).toBe(false);
  });
});
