import type { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { acceptForwarded } from '../../src/server/http-forward';
import { cleanup, eventually } from '../support/harness';
import { msg, post, twoNodesAndSse } from '../support/bredis-http';
import { redisForFile } from '../support/redis-server';

/*
 * Requests of an HTTP-rung session that land on a node without its link are forwarded to the node
 * that holds it (docs/scaling.md §4). Before, each one went on a TCP connection of its own: under
 * thousands of idle HTTP-rung clients that was hundreds of new connections a second between the
 * nodes, whose listen queues overflowed (dropped SYNs, retried a second later): the capacity
 * run's long-poll round trips reached 1–2 s at half the machine's CPU. Now nodes keep their
 * connections to each other alive, and a forwarded request's client address travels per request.
 */

const redis = redisForFile();
afterEach(cleanup);

describe('forwarded requests', () => {
  test('go over kept-alive connections: 20 POSTs forwarded one after another open 1 connection, not 20', async () => {
    const { a, b, s, sid, key } = await twoNodesAndSse(redis.url, 'scale-fwd-keepalive');
    let accepted = 0;
    a.server.httpServer.on('connection', () => accepted++);
    for (let n = 1; n <= 20; n++) {
      // Lands on b, which does not hold the link: forwarded to a.
      const r = await post(b.port, `t=sse&sid=${sid}&u=up1&n=${n}`, `${key}\n${msg(n, 'ping', { n })}`);
      expect(r.status).toBe(204);
    }
    expect(b.store.stats.forwarded).toBe(20);
    expect(accepted).toBe(1);
    // And they were read, in order: a acknowledges all 20 on the stream.
    await eventually(() => s.frames.some((f) => f.t === 'ack' && f.a === 20), 5000, 'the ack of message 20');
  });

  test('the address each forwarded request carries is its client\'s, and a request that proves nothing takes the socket\'s own back', () => {
    const socket = new Socket();
    const own = socket.remoteAddress;
    const request = (headers: Record<string, string>) => ({ socket, headers }) as unknown as IncomingMessage;
    // Two clients' requests, one after the other on one kept-alive connection between two nodes.
    expect(acceptForwarded(request({ 'x-wirefall-node': 'secret', 'x-wirefall-remote': '203.0.113.7' }), 'secret')).toBe(true);
    expect(socket.remoteAddress).toBe('203.0.113.7');
    expect(acceptForwarded(request({ 'x-wirefall-node': 'secret', 'x-wirefall-remote': '198.51.100.9' }), 'secret')).toBe(true);
    expect(socket.remoteAddress).toBe('198.51.100.9');
    // A wrong secret, or none: not forwarded, and no earlier request's address stays.
    expect(acceptForwarded(request({ 'x-wirefall-node': 'guess!', 'x-wirefall-remote': '192.0.2.1' }), 'secret')).toBe(false);
    expect(socket.remoteAddress).toBe(own);
    expect(acceptForwarded(request({ 'x-wirefall-node': 'secret', 'x-wirefall-remote': '192.0.2.1' }), undefined)).toBe(false);
    expect(socket.remoteAddress).toBe(own);
    socket.destroy();
  });
});
