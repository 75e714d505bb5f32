/**
 * What the server does per round trip on WebSocket (issue 15: the round trip against raw `ws`).
 *
 * Its replies to a client's message leave once that transport message was read, not from a promise
 * reaction queued per send (one of the three promises the server made per round trip).
 *
 * Its WebSocket writes pass no callback unless a drain is awaited. A callback on every
 * write made the socket schedule a `process.nextTick` and allocate its bookkeeping per round trip
 * (issue 15; bench/rtt-trace.mjs counted 2 ticks a round trip on the server against raw `ws`'s 1).
 * Flow control must still hear when a backlog drained: the writes already on their way carry no
 * callback then, so an empty write behind them says when they left, not the next heartbeat.
 */
import net from 'node:net';
import { afterEach, expect, it, vi } from 'vitest';
import { cleanup, client, eventually, startServer, track, until } from '../support/harness';

afterEach(() => {
  vi.restoreAllMocks();
  return cleanup();
});

it('ws: a conversation writes to the sockets without a write callback', async () => {
  const { server, url } = await startServer();
  track(server);
  server.on('connection', (conn) => conn.subscribe('echo', (d) => void conn.send('echoed', d).catch(() => {})));
  const c = client(url);
  let echoes = 0;
  c.subscribe('echoed', () => void echoes++);
  await until(c, 'open');
  const roundTrips = async (n: number) => {
    for (let i = 0; i < n; i++) {
      const before = echoes;
      void c.send('echo', { n: i }).catch(() => {});
      await eventually(() => echoes > before, 5000, `echo ${i}`);
    }
  };
  await roundTrips(5); // the welcome, the first acks
  const write = net.Socket.prototype.write;
  let writes = 0;
  let withCallback = 0;
  vi.spyOn(net.Socket.prototype, 'write').mockImplementation(function (this: net.Socket, ...args: unknown[]) {
    writes++;
    if (args.some((a) => typeof a === 'function')) withCallback++;
    return (write as (...a: unknown[]) => boolean).apply(this, args);
  });
  await roundTrips(50);
  // Both ends write every turn (`ws` writes a frame's header and its data apart).
  expect(writes).toBeGreaterThanOrEqual(100);
  expect(withCallback).toBe(0);
});

it('ws: replies to a message have left by the next tick, in the same task that read it', async () => {
  const { server, port, url } = await startServer();
  track(server);
  let serverWrites = 0;
  const write = net.Socket.prototype.write;
  vi.spyOn(net.Socket.prototype, 'write').mockImplementation(function (this: net.Socket, ...args: unknown[]) {
    if (this.localPort === port) serverWrites++;
    return (write as (...a: unknown[]) => boolean).apply(this, args);
  });
  const leftByNextTick: boolean[] = [];
  server.on('connection', (conn) =>
    conn.subscribe('echo', (d) => {
      const before = serverWrites;
      void conn.send('echoed', d).catch(() => {});
      // Ticks run after the task's callback, before promise reactions.
      process.nextTick(() => leftByNextTick.push(serverWrites > before));
    }),
  );
  const c = client(url);
  let echoes = 0;
  c.subscribe('echoed', () => void echoes++);
  await until(c, 'open');
  for (let i = 0; i < 20; i++) {
    void c.send('echo', { n: i }).catch(() => {});
    await eventually(() => echoes > i, 5000, `echo ${i}`);
  }
  expect(leftByNextTick).toEqual(Array.from({ length: 20 }, () => true));
});

it('ws: a burst past maxBufferedBytes flows on once the socket drained, without waiting for a heartbeat', async () => {
  // The heartbeat (a write that would carry the callback) is far beyond the test's deadline.
  const { server, url } = await startServer({ maxBufferedBytes: 1024 * 1024, heartbeatMs: 120_000, replay: { maxBytes: 16 * 1024 * 1024 } });
  track(server);
  const COUNT = 6000;
  const text = 'x'.repeat(1000);
  server.on('connection', (conn) => {
    for (let i = 0; i < COUNT; i++) void conn.send('said', { from: String(i), text }).catch(() => {});
  });
  const c = client(url);
  const got: number[] = [];
  c.subscribe('said', (d) => void got.push(Number(d.from)));
  await until(c, 'open');
  // 6 MB over loopback takes well under a second; 20 s is for a loaded machine.
  await eventually(() => got.length >= COUNT, 20_000, 'the burst');
  expect(got).toEqual(Array.from({ length: COUNT }, (_, i) => i));
}, 30_000);
