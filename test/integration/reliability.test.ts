import { afterEach, describe, expect, test } from 'vitest';
import type { Client } from '../../src/index';
import type { Connection } from '../../src/server/index';
import { startLab, type Lab } from '../../lab';
import { cleanup, client, eventually, startServer, track, until } from '../support/harness';
import { mapStorage } from '../support/map-storage';

/*
 * Exactly-once, in-order delivery under fire: 10,000 messages each way while a seeded lab cuts
 * connections at random (≥ 200 cuts), on each rung alone and with rung changes in the middle.
 * Both ends record what they delivered; the assertion is that each saw 0..N-1 exactly once, in
 * order, and that neither buffer grew past its documented bound.
 */
type Stream = { client: { up: { n: number } }; server: { down: { n: number } } };

const N = 10_000;
const CLIENT_OUTBOX = { maxMessages: 2_000, maxBytes: 1 << 20 };
const SERVER_REPLAY = { maxMessages: 2_000, maxBytes: 1 << 20 };

afterEach(cleanup);

/** Paces `N` sends in chunks, waiting when the sender's buffer is near its bound. */
async function pump(send: (n: number) => Promise<void>, buffered: () => number, stop: () => boolean, pace = 8) {
  for (let n = 0; n < N && !stop(); ) {
    if (buffered() > 1_500) {
      await new Promise((r) => setTimeout(r, 5));
      continue;
    }
    // Seconds of steady traffic (pace ms per 20 messages), so that the cuts land all through it.
    for (const end = Math.min(N, n + 20); n < end; n++) send(n).catch(() => {});
    await new Promise((r) => setTimeout(r, pace));
  }
}

async function stress(pace = 8) {
  const { server, port } = await startServer<Stream>({ replay: SERVER_REPLAY, heartbeatMs: 1000 });
  track(server);
  const up: number[] = [];
  let maxReplay = 0;
  let session: Connection<Stream> | undefined;
  let stopped = false;
  track({ close: () => void (stopped = true) });
  server.on('connection', (conn) => {
    if (session) throw new Error('a second session: the first was lost');
    session = conn;
    conn.subscribe('up', (d) => up.push(d.n));
    void pump(
      (n) => conn.send('down', { n }),
      () => ((maxReplay = Math.max(maxReplay, conn.buffered.messages)), conn.buffered.messages),
      () => stopped || conn.closed,
      pace,
    );
  });
  return { server, up, pace, maxReplay: () => maxReplay, session: () => session, port, stop: () => (stopped = true) };
}

/** Subscribes at once: the server starts sending the moment the session opens. */
function listen(c: Client<Stream>): number[] {
  const down: number[] = [];
  c.subscribe('down', (d) => down.push(d.n));
  return down;
}

async function run(c: Client<Stream>, down: number[], s: Awaited<ReturnType<typeof stress>>, labs: Lab[], during?: () => Promise<void>) {
  let maxOutbox = 0;
  const sending = pump(
    (n) => c.send('up', { n }),
    () => ((maxOutbox = Math.max(maxOutbox, c.buffered.messages)), c.buffered.messages),
    () => c.state === 'closed',
    s.pace,
  );
  await during?.();
  await sending;
  await eventually(() => down.length >= N && s.up.length >= N, 60_000, 'all messages both ways');
  await eventually(() => c.buffered.messages === 0 && s.session()!.buffered.messages === 0, 10_000, 'all acknowledged');
  const cuts = labs.reduce((n, l) => n + l.stats.cuts, 0);
  const expected = Array.from({ length: N }, (_, i) => i);
  // toEqual on 10,000 numbers is slow to diff on failure; compare first, then show the first gap.
  const firstBad = (xs: number[]) => xs.findIndex((x, i) => x !== i);
  expect({ down: down.length, up: s.up.length, downBad: firstBad(down), upBad: firstBad(s.up) }).toEqual({ down: N, up: N, downBad: -1, upBad: -1 });
  expect(down).toEqual(expected);
  expect(s.up).toEqual(expected);
  expect(maxOutbox).toBeLessThanOrEqual(CLIENT_OUTBOX.maxMessages);
  expect(s.maxReplay()).toBeLessThanOrEqual(SERVER_REPLAY.maxMessages);
  expect([...s.server.connections]).toHaveLength(1);
  return { cuts };
}

describe('exactly once, in order, through ≥ 200 random cuts', () => {
  for (const rung of ['ws', 'sse', 'longpoll'] as const) {
    test(`${rung}: 10,000 messages each way`, async () => {
      const s = await stress();
      const lab = track(await startLab({ upstream: { host: '127.0.0.1', port: s.port }, scenario: { kind: 'random-cuts', seed: 42, meanMs: 12 } }));
      const c = client<Stream>(`${lab.url}/wirefall`, {
        transports: [rung],
        reconnect: { base: 4, max: 20 },
        outbox: CLIENT_OUTBOX,
        platform: { storage: mapStorage() },
      });
      const down = listen(c);
      const t0 = performance.now();
      const { cuts } = await run(c, down, s, [lab]);
      console.log(`${rung}: 10,000 each way exactly once through ${cuts} cuts in ${Math.round(performance.now() - t0)} ms`);
      expect(cuts).toBeGreaterThanOrEqual(200);
      s.stop();
    }, 90_000);
  }

  test('rung changes in the middle: ws → sse → longpoll → ws, each rung through its own hostile lab', async () => {
    const s = await stress(14);
    const upstream = { host: '127.0.0.1', port: s.port };
    const cuts = { kind: 'random-cuts', seed: 9, meanMs: 12 } as const;
    const wsLab = track(await startLab({ upstream, scenario: cuts }));
    const sseLab = track(await startLab({ upstream, scenario: { kind: 'pass' } }));
    const lpLab = track(await startLab({ upstream, scenario: { kind: 'pass' } }));
    const c = client<Stream>('http://unused.invalid/', {
      rungs: [
        { name: 'ws', url: `${wsLab.wsUrl}/wirefall` },
        { name: 'sse', url: `${sseLab.url}/wirefall` },
        { name: 'longpoll', url: `${lpLab.url}/wirefall` },
      ],
      reconnect: { base: 4, max: 20 },
      upgradeProbe: { first: 200, max: 400 },
      outbox: CLIENT_OUTBOX,
      platform: { storage: mapStorage() },
    });
    const down = listen(c);
    const rungs: string[] = [];
    c.on('state', (st, r) => st === 'open' && rungs.at(-1) !== r && rungs.push(String(r)));
    await until(c, 'open');
    const phase = (ms: number) => new Promise((r) => setTimeout(r, ms));
    const { cuts: total } = await run(c, down, s, [wsLab, sseLab, lpLab], async () => {
      await phase(1500);
      wsLab.setScenario({ kind: 'refuse-upgrade', how: '403' }, { cutExisting: true });
      sseLab.setScenario(cuts, { cutExisting: true });
      await phase(1800);
      sseLab.setScenario({ kind: 'buffer-sse' }, { cutExisting: true });
      lpLab.setScenario(cuts, { cutExisting: true });
      await phase(1800);
      wsLab.setScenario(cuts, { cutExisting: true });
    });
    console.log(`rung changes ${rungs.join(' → ')}: 10,000 each way exactly once through ${total} cuts`);
    expect(total).toBeGreaterThanOrEqual(200);
    // It really moved: down the ladder and back up.
    expect(rungs).toEqual(expect.arrayContaining(['ws', 'sse', 'longpoll']));
    expect(rungs.indexOf('longpoll')).toBeGreaterThan(rungs.indexOf('sse'));
    expect(rungs.lastIndexOf('ws')).toBeGreaterThan(rungs.indexOf('longpoll'));
    s.stop();
  }, 90_000);
});
