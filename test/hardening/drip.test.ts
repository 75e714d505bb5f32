/**
 * Bytes still arriving for a frame count as the client speaking (a large message through a slow
 * uplink), but only at 16 KB/s or more: a client that drips a frame byte by byte must not hold
 * its session and socket for ever. The heartbeat still ends it.
 */
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import WebSocket from 'ws';
import { guardProcess } from '../support/guard';
import { cleanup, startServer, track } from '../support/harness';

guardProcess();
afterEach(cleanup);

/** The header of a masked text frame of `n` bytes (RFC 6455 §5.2), as a client writes it. */
function header(n: number, mask: Buffer): Buffer {
  const h = Buffer.alloc(10);
  h[0] = 0x81;
  h[1] = 0x80 | 127;
  h.writeBigUInt64BE(BigInt(n), 2);
  return Buffer.concat([h, mask]);
}

it('a frame dripped slower than 16 KB/s does not keep the link alive past its heartbeat', async () => {
  const { server, url } = await startServer({ heartbeatMs: 500 });
  track(server);
  const ws = track(new WebSocket(url.replace('http', 'ws')));
  ws.on('error', () => {});
  await new Promise((r) => ws.once('open', r));
  const welcomed = new Promise((r) => ws.on('message', (m) => String(m).includes('"welcome"') && r(null)));
  ws.send('{"t":"hello","v":3}');
  await welcomed;
  ws.send('{"t":"ping"}'); // the session is claimed: it lives for as long as its heartbeat says
  const closed = new Promise<{ code: number; why: string }>((r) => ws.once('close', (code, why) => r({ code, why: String(why) })));
  // 100 KB announced; 200 bytes every 100 ms (2 KB/s) after it.
  const socket = (ws as unknown as { _socket: Socket })._socket;
  const mask = randomBytes(4);
  socket.write(header(100_000, mask));
  const t0 = Date.now();
  const drip = setInterval(() => socket.writable && socket.write(Buffer.alloc(200, 0x20)), 100);
  track({ close: () => clearInterval(drip) });
  const end = await Promise.race([closed, new Promise<undefined>((r) => setTimeout(() => r(undefined), 15_000))]);
  clearInterval(drip);
  // Two beats and a second of silence (2 s), and a beat's tick of slack; a loaded machine gets
  // more. A link cut for silence is terminated, without a closing handshake (1006).
  expect(end).toEqual({ code: 1006, why: '' });
  expect(Date.now() - t0).toBeLessThan(12_000);
  expect([...server.connections].length).toBe(1); // the session waits for its client to come back
}, 30_000);
