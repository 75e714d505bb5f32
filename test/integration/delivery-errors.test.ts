import { afterEach, expect, test } from 'vitest';
import type { WirefallError } from '../../src/index';
import type { Connection } from '../../src/server/index';
import { startLab } from '../../lab';
import { claimed, cleanup, client, eventually, startServer, track, until, type Chat } from '../support/harness';
import { mapStorage } from '../support/map-storage';

afterEach(cleanup);

test('session expiry: a message lost in flight is rejected with WF_SESSION_LOST and listed in sessionlost — never a silent gap', async () => {
  const { server, port } = await startServer({ sessionTtlMs: 150 });
  track(server);
  const received: string[] = [];
  server.on('connection', (conn) => conn.subscribe('say', (d) => received.push(d.text)));
  // 300 ms of latency lets us cut the link while our message is still on the wire.
  const lab = track(await startLab({ upstream: { host: '127.0.0.1', port } }));
  const c = client(`${lab.url}/wirefall`, { reconnect: { base: 50, max: 50 }, platform: { storage: mapStorage() } });
  const lost: unknown[] = [];
  const errors: WirefallError[] = [];
  c.on('sessionlost', (u) => lost.push(u));
  c.on('error', (e) => errors.push(e));
  await until(c, 'open');
  await c.send('say', { text: 'delivered' });
  lab.setScenario({ kind: 'latency', ms: 300 }, { cutExisting: true });
  await until(c, 'open', 3000);
  const inFlight = c.send('say', { text: 'in flight' });
  await new Promise((r) => setTimeout(r, 50));
  // The network goes away with the message on the wire, long enough for the session to expire.
  lab.setScenario({ kind: 'proxy-auth' }, { cutExisting: true });
  const queuedWhileAway = c.send('say', { text: 'queued while away' });
  // Away until the server has really expired the session (a loaded machine's reaper may be late).
  await new Promise((r) => setTimeout(r, 200));
  await eventually(() => [...server.connections].length === 0, 10_000, 'the session to expire');
  lab.setScenario({ kind: 'pass' });
  await expect(inFlight).rejects.toMatchObject({ code: 'WF_SESSION_LOST' });
  expect(lost).toEqual([[{ type: 'say', data: { text: 'in flight' } }]]);
  expect(errors.some((e) => e.code === 'WF_SESSION_LOST')).toBe(true);
  // What was never written goes out on the new session.
  await queuedWhileAway;
  expect(received).toEqual(['delivered', 'queued while away']);
});

test('outbox overflow: the send that does not fit is rejected with WF_OUTBOX_FULL; the rest still arrive', async () => {
  const { server, port } = await startServer();
  track(server);
  const received: string[] = [];
  server.on('connection', (conn) => conn.subscribe('say', (d) => received.push(d.text)));
  const lab = track(await startLab({ upstream: { host: '127.0.0.1', port }, scenario: { kind: 'proxy-auth' } }));
  const c = client(`${lab.url}/wirefall`, { outbox: { maxMessages: 3 }, reconnect: { base: 20, max: 20 }, platform: { storage: mapStorage() } });
  const ok = [c.send('say', { text: '1' }), c.send('say', { text: '2' }), c.send('say', { text: '3' })];
  await expect(c.send('say', { text: '4' })).rejects.toMatchObject({ code: 'WF_OUTBOX_FULL', retryable: false });
  expect(c.buffered.messages).toBe(3);
  lab.setScenario({ kind: 'pass' });
  await Promise.all(ok);
  expect(received).toEqual(['1', '2', '3']);
});

test('backpressure: crossing the high-water mark is reported, and whenWritable resolves once acks drain it', async () => {
  const { server, url } = await startServer();
  track(server);
  const c = client(url, { outbox: { highWaterBytes: 2000 } });
  const marks: boolean[] = [];
  c.on('backpressure', (high) => marks.push(high));
  await until(c, 'open');
  const sends = Array.from({ length: 50 }, (_, i) => c.send('say', { text: `${i}`.padEnd(100, '.') }));
  expect(marks).toEqual([true]);
  await c.whenWritable();
  await Promise.all(sends);
  expect(marks).toEqual([true, false]);
});

test('a slow consumer cannot grow server memory without bound: the replay buffer refuses with WF_OUTBOX_FULL', async () => {
  const { server, port } = await startServer({ replay: { maxMessages: 100, maxBytes: 1 << 20 } });
  track(server);
  let conn: Connection<Chat> | undefined;
  server.on('connection', (c) => (conn = c));
  // The client is cut off and cannot come back: nothing the server sends is acknowledged.
  const lab = track(await startLab({ upstream: { host: '127.0.0.1', port } }));
  const c = client(`${lab.url}/wirefall`, { platform: { storage: mapStorage() } });
  await until(c, 'open');
  await claimed(server);
  lab.setScenario({ kind: 'proxy-auth' }, { cutExisting: true });
  await eventually(() => conn?.rung === null, 3000, 'the server to notice');
  const refused: WirefallError[] = [];
  for (let i = 0; i < 150; i++) conn!.send('said', { from: 's', text: String(i) }).catch((e: WirefallError) => refused.push(e));
  await new Promise((r) => setTimeout(r, 10));
  expect(refused).toHaveLength(50);
  expect(refused[0]).toMatchObject({ code: 'WF_OUTBOX_FULL' });
  expect(conn!.buffered.messages).toBe(100);
  // The 100 it kept are delivered once the client is back.
  const got: string[] = [];
  c.subscribe('said', (m) => got.push(m.text));
  lab.setScenario({ kind: 'pass' });
  await eventually(() => got.length === 100, 5000, 'the replay');
  expect(got).toEqual(Array.from({ length: 100 }, (_, i) => String(i)));
});
