import type { AddressInfo } from 'node:net';
import { afterEach, expect, test } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { mapStorage } from '../support/map-storage';
import { cleanup, client, track } from '../support/harness';

/*
 * A server (or a proxy in front of it) that accepts every connection, verifies it, and drops it
 * at once: a crash loop, an overloaded node, a middlebox cutting each connection. A verified link
 * used to start the backoff over, so each client came back about every 125 ms for ever (15
 * connections in 2 s here). Only a link that lasted now does; the others' losses grow the backoff.
 */
afterEach(cleanup);

test('links dropped right after their welcome: the reconnects back off, as failed attempts do', async () => {
  const accepted: number[] = [];
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  track({ close: () => new Promise<void>((r) => (wss.clients.forEach((s) => s.terminate()), wss.close(() => r()))) });
  await new Promise((r) => wss.once('listening', r));
  wss.on('connection', (s) => {
    accepted.push(performance.now());
    s.send(JSON.stringify({ t: 'greet', v: [3] }));
    s.on('message', (m) => {
      const frames = [JSON.parse(String(m)) as { t: string } | { t: string }[]].flat();
      if (frames.some((f) => f.t === 'hello')) {
        s.send(JSON.stringify({ t: 'welcome', v: 3, sid: 's', key: 'k', hb: 5000, ack: 0, resumed: false, max: 65536 }));
        setTimeout(() => s.terminate(), 50);
      }
    });
  });
  // The longest wait each time (random 0.999 of the ceiling): 250, 500, 1000, 2000 ms after the
  // first four losses. Before, each was at most 250 ms: the fifth link came ~1.2 s after the first.
  const c = client(`http://127.0.0.1:${(wss.address() as AddressInfo).port}/`, { platform: { storage: mapStorage(), random: () => 0.999 } });
  const opened: number[] = [];
  c.on('state', (s) => s === 'open' && opened.push(performance.now()));
  const deadline = performance.now() + 10_000;
  while (accepted.length < 5 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  expect(accepted.length).toBe(5);
  expect(opened.length).toBeGreaterThanOrEqual(4); // they were verified links, not failed attempts
  const gaps = accepted.slice(1).map((t, i) => t - accepted[i]!);
  expect(accepted[4]! - accepted[0]!).toBeGreaterThan(3000);
  expect(gaps[3]!).toBeGreaterThan(gaps[0]! + 1000);
}, 20_000);
