/**
 * A server→client burst on long-polling (src/server/session.ts, `sendEncoded`): the held poll is
 * answered within the app's loop once a whole answer (the server's `maxMessageBytes` of payload)
 * is queued, so the client parses it while the loop goes on; a smaller burst still leaves as one
 * answer at the end of the tick. Either way every message arrives once and in order.
 */
import { createServer as createHttpServer, type ServerResponse } from 'node:http';
import { afterEach, expect, test } from 'vitest';
import type { AnyApi } from '../../src/protocol/api';
import { claimed, cleanup, client, eventually, startServer, track, until } from '../support/harness';

afterEach(cleanup);

/** A long-poll server whose answers carry at most `max` bytes of payload; `held()` is the poll it holds now. */
async function pollServer(max: number) {
  const polls: ServerResponse[] = [];
  const http = createHttpServer();
  // Ahead of the wirefall server's own listener: it only records each poll's response.
  http.on('request', (req, res) => void (req.url?.includes('poll=1') && polls.push(res)));
  const { server } = await startServer<AnyApi>({ server: http, maxMessageBytes: max });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  track({ close: () => new Promise<void>((r) => (http.closeAllConnections(), http.close(() => r()))) });
  track(server);
  const url = `http://127.0.0.1:${(http.address() as { port: number }).port}/wirefall`;
  const held = () => polls.find((r) => !r.writableEnded);
  return { server, url, held };
}

test('a burst over one answer: the held poll is answered within the loop, and all of it arrives once, in order', async () => {
  const { server, url, held } = await pollServer(4096);
  const c = client<AnyApi>(url, { transports: ['longpoll'] });
  const got: number[] = [];
  c.subscribe('n', (d) => void got.push((d as { i: number }).i));
  await until(c, 'open');
  const [conn] = await claimed(server);
  await eventually(() => !!held(), 5000, 'a held poll');
  const poll = held()!;
  const pad = 'x'.repeat(100);
  // Where the loop was when the poll was answered: -1, not within it.
  let answeredAt = -1;
  for (let i = 0; i < 300; i++) {
    void conn!.send('n', { i, pad }).catch(() => {});
    if (answeredAt < 0 && poll.writableEnded) answeredAt = i;
  }
  // ~115 bytes a message: the answer fills at about message 35 (4,096 bytes), not at the loop's end.
  expect(answeredAt).toBeGreaterThan(20);
  expect(answeredAt).toBeLessThan(60);
  await eventually(() => got.length >= 300, 5000, '300 messages');
  expect(got).toEqual(Array.from({ length: 300 }, (_, i) => i));
});

test('a burst within one answer leaves at the end of the tick, as one answer', async () => {
  const { server, url, held } = await pollServer(64 * 1024);
  const c = client<AnyApi>(url, { transports: ['longpoll'] });
  const got: number[] = [];
  c.subscribe('n', (d) => void got.push(d as number));
  await until(c, 'open');
  const [conn] = await claimed(server);
  await eventually(() => !!held(), 5000, 'a held poll');
  const poll = held()!;
  let answeredWithin = false;
  for (let i = 0; i < 100; i++) {
    void conn!.send('n', i).catch(() => {});
    answeredWithin ||= poll.writableEnded;
  }
  expect(answeredWithin).toBe(false);
  await eventually(() => poll.writableEnded, 5000, 'the answer');
  await eventually(() => got.length >= 100, 5000, '100 messages');
  expect(got).toEqual(Array.from({ length: 100 }, (_, i) => i));
});
