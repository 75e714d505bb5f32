import { createServer as createHttpServer, request, type IncomingMessage } from 'node:http';
import { createServer as createTcpServer, Socket, type AddressInfo } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { acceptForwarded, forward, Forwarder } from '../../src/server/http-forward';
import { cleanup, eventually, track } from '../support/harness';
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

  test('one sent on a kept-alive connection the other node reset under it is sent again on a new one, body and all', async () => {
    // A node that answers the first request of each connection and keeps it alive, then resets
    // the connection when a second request comes on it: as a node closing an idle connection
    // just as a request goes out on it. It counts the bodies it answered.
    const bodies: string[] = [];
    const node = createTcpServer((socket) => {
      let seen = 0;
      let buf = '';
      socket.on('error', () => {});
      socket.on('data', (d) => {
        buf += d.toString();
        const head = buf.indexOf('\r\n\r\n');
        const length = Number(/content-length: *(\d+)/i.exec(buf)?.[1] ?? 0);
        if (head < 0 || buf.length < head + 4 + length) return;
        const body = buf.slice(head + 4, head + 4 + length);
        buf = '';
        if (++seen > 1) return void socket.resetAndDestroy();
        bodies.push(body);
        socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nKeep-Alive: timeout=5\r\nConnection: keep-alive\r\n\r\nok');
      });
    });
    const via = new Forwarder();
    const front = createHttpServer((req, res) => forward(req, res, `http://127.0.0.1:${(node.address() as AddressInfo).port}`, 'secret', via));
    for (const s of [node, front]) {
      track({ close: () => new Promise<void>((r) => s.close(() => r())) });
      await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    }
    track({ close: () => (via.close(), front.closeAllConnections()) });
    const send = (body: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port: (front.address() as AddressInfo).port, path: '/wirefall?t=lp', method: 'POST', agent: false }, (res) => {
          let b = '';
          res.on('data', (d: Buffer) => (b += d.toString()));
          res.on('end', () => resolve({ status: res.statusCode!, body: b }));
        });
        req.on('error', reject);
        req.end(body);
      });
    expect(await send('first')).toEqual({ status: 200, body: 'ok' });
    // Before: the reset was taken for a node gone, and answered 404 session_unknown.
    expect(await send('second')).toEqual({ status: 200, body: 'ok' });
    expect(bodies).toEqual(['first', 'second']);
  });
});
