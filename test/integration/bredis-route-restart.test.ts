import { afterEach, describe, expect, test } from 'vitest';
import { cleanup, eventually } from '../support/harness';
import { post, twoNodesAndSse } from '../support/bredis-http';
import { redisForFile } from '../support/redis-server';

/*
 * Redis restarts empty (no persistence): each node writes its address again once it reconnects
 * (docs/scaling.md §3), and must write the holder records of the HTTP links it holds too, or every
 * request of those sessions that lands on another node is answered `404 session_unknown` until
 * its client moves the session (another resume per HTTP-rung session after every restart).
 */

const redis = redisForFile();
afterEach(cleanup);

describe('after Redis restarts empty', () => {
  test('requests of a live SSE session that land on another node are forwarded again, without a resume', { timeout: 30_000 }, async () => {
    const prefix = 'bredis-route-restart';
    const { b, s, sid, key } = await twoNodesAndSse(redis.url, prefix);
    await redis.kill();
    await redis.restart();
    // Both nodes reconnect (backoff up to 2 s); until a has written its records again, b cannot
    // know where the session is (404, and the same POST is sent again, as a client would after
    // a resume). Before, that lasted until the client moved the session.
    let status = 0;
    let busy = false;
    const send = () => {
      if (busy) return;
      busy = true;
      void post(b.port, `t=sse&sid=${sid}&u=up1&n=1`, `${key}\n{"t":"ack","a":0}`).then((r) => (status = r.status), () => {}).finally(() => (busy = false));
    };
    await eventually(() => (status === 204 || send(), status === 204), 15_000, 'a POST through b forwarded to a');
    expect(s.frames.some((f) => f.t === 'bye')).toBe(false);
  });
});
