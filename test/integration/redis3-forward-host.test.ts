import { createServer, request } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { makeTestCert } from '../../lab/cert';
import { forward, Forwarder } from '../../src/server/http-forward';
import { afterEach, describe, expect, test } from 'vitest';
import { post, redisNode } from '../support/bredis-http';
import { cleanup, track } from '../support/harness';
import { redisForFile } from '../support/redis-server';

/*
 * A protocol 2 open is a POST answered with a ticket, then a GET with it, which any node may
 * receive: the node named by the ticket gets it forwarded (docs/scaling.md §4). `authenticate`
 * runs there, on that GET: an app that reads `Host` (a tenant per domain, a virtual host) must see
 * the client's, not the forwarding node's address. Before, the forwarded GET lost its `Host`.
 */

const redis = redisForFile();
afterEach(cleanup);

describe('a forwarded request keeps its Host', () => {
  test('protocol 2: the ticket GET that lands on another node is authenticated with the client\'s Host', async () => {
    const prefix = 'redis3-host';
    const hosts: (string | undefined)[] = [];
    const authenticate = ({ request: req }: { request: { headers: { host?: string } } }) => (hosts.push(req.headers.host), {});
    const a = await redisNode(redis.url, prefix, { authenticate });
    const b = await redisNode(redis.url, prefix, { authenticate });
    track(a.server);
    track(b.server);
    const opened = await post(a.port, 't=lp', '{"t":"hello","v":2}', { host: 'chat.example' });
    const { ticket } = JSON.parse(opened.body) as { ticket: string };
    expect(ticket.startsWith(`${a.store.nodeId}.`)).toBe(true);
    const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: b.port, path: `/wirefall?t=lp&ticket=${ticket}`, headers: { host: 'chat.example' } }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      });
      req.on('error', reject);
      track({ close: () => void req.destroy() });
      req.end();
    });
    expect(answer.status).toBe(200);
    expect((JSON.parse(answer.body) as { t: string }[]).map((f) => f.t)).toEqual(['greet', 'welcome']);
    expect(b.store.stats.forwarded).toBe(1);
    expect(hosts).toEqual(['chat.example']);
  });

  test('over https, the TLS name is still the node\'s (Node takes it from Host otherwise)', async () => {
    const { key, cert } = await makeTestCert();
    const names: (string | undefined)[] = [];
    // The name the forwarding node asks for in its TLS hello (the certificate is checked against it).
    const node = createTlsServer({ key, cert, SNICallback: (name, cb) => (names.push(name), cb(null, undefined)) }, (_q, s) => s.end('ok'));
    const via = new Forwarder();
    track({ close: () => via.close() });
    const front = createServer((req, res) => forward(req, res, `https://localhost:${(node.address() as AddressInfo).port}`, 'secret', via));
    for (const s of [node, front]) {
      track({ close: () => new Promise<void>((r) => (s.closeAllConnections(), s.close(() => r()))) });
      await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    }
    // Self-signed: the forward fails past the hello (404, as for a node gone); the name was sent.
    const status = await new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: (front.address() as AddressInfo).port, path: '/', headers: { host: 'chat.example' } }, (res) => (res.resume(), resolve(res.statusCode!)));
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(404);
    expect(names).toEqual(['localhost']);
  });
});
