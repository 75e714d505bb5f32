import { afterEach, expect, test } from 'vitest';
import { cleanup, client, eventually, startServer, track, until } from '../support/harness';
import { startThrottle } from '../support/throttle';

/*
 * A slow uplink (64 KB/s, a weak phone's) under a 200 KB message: 3.1 s before the server has it
 * and can acknowledge it. The client's answer deadline (2 s) alone took that for a stall: on SSE
 * the message was never delivered (each resume sent it again from the start, for ever), on
 * WebSocket only after several reconnects. It must arrive once, over the first connection.
 */
afterEach(cleanup);

for (const rung of ['ws', 'sse'] as const) {
  test(`${rung}: a 200 KB message through a 64 KB/s uplink arrives once, without a reconnect`, async () => {
    const { server, port } = await startServer();
    track(server);
    const got: number[] = [];
    server.on('connection', (conn) => conn.subscribe('say', (d) => got.push(d.text.length)));
    const slow = track(await startThrottle(port, 64 * 1024));
    const c = client(`http://127.0.0.1:${slow.port}/wirefall`, { transports: [rung] });
    const errors: string[] = [];
    c.on('error', (e) => errors.push(e.code));
    await until(c, 'open');
    let outcome = 'pending';
    c.send('say', { text: 'x'.repeat(200_000) }).then(() => (outcome = 'ok'), (e: { code: string }) => (outcome = e.code));
    // 3.1 s at the nominal rate; the bound leaves a loaded machine's slower throttle room.
    await eventually(() => outcome !== 'pending' || errors.length > 0, 20_000, 'the message settled or an error');
    expect(errors).toEqual([]);
    await eventually(() => outcome !== 'pending', 20_000, 'the ack');
    expect(outcome).toBe('ok');
    expect(got).toEqual([200_000]);
    expect(c.attempts).toHaveLength(1);
  }, 45_000);
}

test('ws: the server counts a large message still arriving as the client speaking (a beat of 0.5 s, a 3.1 s upload)', async () => {
  // The server's silence limit is two beats and a second (2 s here); the upload takes 3.1 s, and
  // the client's answers to the server's pings wait behind it. Before, the server cut the link
  // (heartbeat timeout) and the client sent the message again from the start.
  const { server, port } = await startServer({ heartbeatMs: 500 });
  track(server);
  const got: number[] = [];
  server.on('connection', (conn) => conn.subscribe('say', (d) => got.push(d.text.length)));
  const slow = track(await startThrottle(port, 64 * 1024));
  const c = client(`http://127.0.0.1:${slow.port}/wirefall`, { transports: ['ws'] });
  await until(c, 'open');
  let outcome = 'pending';
  c.send('say', { text: 'x'.repeat(200_000) }).then(() => (outcome = 'ok'), (e: { code: string }) => (outcome = e.code));
  await eventually(() => outcome !== 'pending', 20_000, 'the ack');
  expect(outcome).toBe('ok');
  expect(got).toEqual([200_000]);
  expect(c.attempts).toHaveLength(1);
}, 45_000);

