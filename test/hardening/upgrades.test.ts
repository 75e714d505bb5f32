/**
 * A refused WebSocket upgrade is over once refused. The refusals (403 origin, 429 over the
 * address's rate, 503 while closing) ended only our half of the socket, and an upgrade to another
 * path was not answered at all; HTTP sockets here are half-open, so a client that never closed
 * its half kept each one open for ever. The rate limit itself was the lever: every upgrade over
 * the rate left a socket, until the process ran out of file descriptors.
 */
import type { Socket } from 'node:net';
import { connect } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { bystander, serve } from '../support/bystander';
import { guardProcess } from '../support/guard';
import { cleanup, eventually, track } from '../support/harness';

guardProcess();
afterEach(cleanup);

/** An upgrade request from a client that never closes its half of the connection. */
async function stubborn(port: number, path: string, headers = '') {
  const c = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  track({ close: () => void c.destroy() });
  let text = '';
  c.on('data', (d) => void (text += String(d)));
  c.on('error', () => {});
  await new Promise((r) => c.once('connect', r));
  c.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n${headers}\r\n`);
  await eventually(() => text.includes('\r\n'), 5000, `an answer to ${path}`);
  return text.split('\r\n')[0];
}

it('403, 429 and an upgrade to a path nobody serves close the socket, however the client behaves', async () => {
  const { server, port, url } = await serve({ allowedOrigins: ['http://127.0.0.1'], rateLimit: { ip: { perSecond: 0.001, burst: 2 } } });
  const open = new Set<Socket>();
  server.httpServer.on('connection', (s: Socket) => {
    open.add(s);
    s.on('close', () => open.delete(s));
  });
  const by = await bystander(server, url); // the address's first open (the burst is 2)
  const base = open.size;
  expect(await stubborn(port, '/wirefall', 'Origin: http://evil.example\r\n')).toBe('HTTP/1.1 403 Forbidden');
  expect(await stubborn(port, '/elsewhere')).toBe('HTTP/1.1 404 Not Found');
  expect(await stubborn(port, '/wirefall')).toBe('HTTP/1.1 101 Switching Protocols'); // the second open
  expect(await stubborn(port, '/wirefall')).toBe('HTTP/1.1 429 Too Many Requests');
  // The accepted one stays (it has its hello timeout); the three refused ones are gone.
  await eventually(() => open.size === base + 1, 5000, 'the refused sockets to close');
  await by.check();
});
