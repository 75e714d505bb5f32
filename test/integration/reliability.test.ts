import { afterEach, describe, expect, test } from 'vitest';
import type { Client } from '../../src/index';
import type { Connection } from '../../src/server/index';
import { startLab, type Lab } from '../../lab';
import { cleanup, client, eventually, startServer, track, until } from '../support/harness';
import { mapStorage } from '../support/map-storage';

/*
 * Exactly-once, in-order delivery under fire: 10,000 messages each way while a seeded lab cuts
 * connections at random, on each rung alone and with rung changes in the middle. Both ends record
 * what they delivered; the assertion is that each saw 0..N-1 exactly once, in order, and that
 * neither buffer grew past its documented bound.
 *
 * The number of cuts is the test's own schedule, not a property of the machine's speed: message
 * n leaves only once the labs have cut at least MIN_CUTS·n/N connections, so the traffic is spread
 * over ≥ MIN_CUTS cuts however fast or slow the machine is. Likewise the rung changes wait for the
 * client to reach each rung before the next part of the traffic leaves.
 */
type Stream = { client: { up: { n: number } }; server: { down: { n: number } } };

const N = 10_000;
const MIN_CUTS = 200;
const CLIENT_OUTBOX = { maxMessages: 2_000, maxBytes: 1 << 20 };
const SERVER_REPLAY = { maxMessages: 2_000, maxBytes: 1 << 20 };
/** How long the traffic may wait for the schedule (cuts, rung changes) before the test gives up. */
const GATE_DEADLINE_MS = 30_000;

afterEach(cleanup);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Sends `N` messages in chunks of 20, `pace` ms apart, waiting while the sender's buffer is near
 * its bound and while `gate(n)` says message n may not leave yet.
 */
async function pump(send: (n: number) => Promise<void>, buffered: () => number, stop: () => boolean, gate: (n: number) => boolean, pace = 8, detail = () => '') {
  let waitingSince: number | undefined;
  for (let n = 0; n < N && !stop(); ) {
    if (buffered() > 1_500 || !gate(n)) {
      waitingSince ??= Date.now();
      if (Date.now() - waitingSince > GATE_DEADLINE_MS) throw new Error(`traffic held at message ${n} for ${GATE_DEADLINE_MS} ms${detail()}`);
      await sleep(5);
      continue;
    }
    waitingSince = undefined;
    for (const end = Math.min(N, n + 20); n < end; n++) send(n).catch(() => {});
    await sleep(pace);
  }
}

async function stress(pace = 8) {
  const { server, port } = await startServer<Stream>({ replay: SERVER_REPLAY, heartbeatMs: 1000 });
  track(server);
  const up: number[] = [];
  let maxReplay = 0;
  let session: Connection<Stream> | undefined;
  let stopped = false;
  let gate: (n: number) => boolean = () => true;
  let serverPump: Promise<void> | undefined;
  track({ close: () => void (stopped = true) });
  let sessions = 0;
  server.on('connection', (conn) => {
    // Counted before the throw, which the server's listener guard only logs (quietly here).
    if (++sessions > 1 || session) throw new Error('a second session: the first was lost');
    session = conn;
    conn.subscribe('up', (d) => up.push(d.n));
    serverPump = pump(
      (n) => conn.send('down', { n }),
      () => ((maxReplay = Math.max(maxReplay, conn.buffered.messages)), conn.buffered.messages),
      () => stopped || conn.closed,
      (n) => gate(n),
      pace,
    );
  });
  return {
    server,
    up,
    pace,
    port,
    maxReplay: () => maxReplay,
    sessions: () => sessions,
    session: () => session,
    setGate: (g: (n: number) => boolean) => void (gate = g),
    serverPump: () => serverPump,
    stop: () => (stopped = true),
  };
}

/** Subscribes at once: the server starts sending the moment the session opens. */
function listen(c: Client<Stream>): number[] {
  const down: number[] = [];
  c.subscribe('down', (d) => down.push(d.n));
  return down;
}

const cutsOf = (labs: Lab[]) => () => labs.reduce((n, l) => n + l.stats.cuts, 0);

async function run(c: Client<Stream>, down: number[], s: Awaited<ReturnType<typeof stress>>, gate: (n: number) => boolean, during?: () => Promise<void>) {
  s.setGate(gate);
  const errors: string[] = [];
  let lost = 0;
  c.on('error', (e) => errors.push(`${e.code} ${e.message}`.slice(0, 160)));
  c.on('sessionlost', (u) => (lost += u.length + 1));
  let maxOutbox = 0;
  const sending = pump(
    (n) => c.send('up', { n }),
    () => ((maxOutbox = Math.max(maxOutbox, c.buffered.messages)), c.buffered.messages),
    () => c.state === 'closed',
    gate,
    s.pace,
    // Where things stood: which side waits for which (a stuck delivery, or a rung not reached).
    () => `; delivered down ${down.length}, up ${s.up.length}; client ${c.state} on ${c.rung}, buffered ${c.buffered.messages}; server buffered ${s.session()?.buffered.messages}; last attempts ${JSON.stringify(c.attempts.slice(-3).map((a) => [a.rung, a.outcome, a.reason]))}; sessions ${s.sessions()}, sessionlost ${lost}; last errors ${JSON.stringify(errors.slice(-4))}`,
  );
  await Promise.all([during?.(), sending]);
  await eventually(() => s.serverPump() !== undefined, 10_000, 'the session');
  await s.serverPump();
  await eventually(() => down.length >= N && s.up.length >= N, 60_000, 'all messages both ways');
  await eventually(() => c.buffered.messages === 0 && s.session()!.buffered.messages === 0, 10_000, 'all acknowledged');
  const expected = Array.from({ length: N }, (_, i) => i);
  // toEqual on 10,000 numbers is slow to diff on failure; compare first, then show the first gap.
  const firstBad = (xs: number[]) => xs.findIndex((x, i) => x !== i);
  expect({ down: down.length, up: s.up.length, downBad: firstBad(down), upBad: firstBad(s.up) }).toEqual({ down: N, up: N, downBad: -1, upBad: -1 });
  expect(down).toEqual(expected);
  expect(s.up).toEqual(expected);
  expect(maxOutbox).toBeLessThanOrEqual(CLIENT_OUTBOX.maxMessages);
  expect(s.maxReplay()).toBeLessThanOrEqual(SERVER_REPLAY.maxMessages);
  expect([...s.server.connections]).toHaveLength(1);
}

describe(`exactly once, in order, through ≥ ${MIN_CUTS} random cuts`, () => {
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
      const cuts = cutsOf([lab]);
      const t0 = performance.now();
      await run(c, down, s, (n) => cuts() >= (MIN_CUTS * n) / N);
      console.log(`${rung}: 10,000 each way exactly once through ${cuts()} cuts in ${Math.round(performance.now() - t0)} ms`);
      expect(cuts()).toBeGreaterThanOrEqual(MIN_CUTS * ((N - 20) / N));
      s.stop();
    }, 120_000);
  }

  test('rung changes in the middle: ws → sse → longpoll → ws, each rung through its own hostile lab', async () => {
    const s = await stress(14);
    const upstream = { host: '127.0.0.1', port: s.port };
    const randomCuts = { kind: 'random-cuts', seed: 9, meanMs: 12 } as const;
    const wsLab = track(await startLab({ upstream, scenario: randomCuts }));
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
    const cuts = cutsOf([wsLab, sseLab, lpLab]);
    // Four phases, a quarter of the traffic each; a phase's messages leave once its rung was reached.
    let phase = 0;
    const gate = (n: number) => n < ((phase + 1) * N) / 4 && cuts() >= (MIN_CUTS * n) / N;
    const delivered = (k: number) => eventually(() => down.length >= k && s.up.length >= k, 60_000, `${k} messages both ways`);
    const reach = async (rung: string) => {
      const from = rungs.length;
      await eventually(() => rungs.slice(from).includes(rung) || (rungs.length === from && c.rung === rung), 30_000, `the client on ${rung}`);
      phase++;
    };
    await run(c, down, s, gate, async () => {
      await delivered(N / 4);
      wsLab.setScenario({ kind: 'refuse-upgrade', how: '403' }, { cutExisting: true });
      sseLab.setScenario(randomCuts, { cutExisting: true });
      await reach('sse');
      await delivered(N / 2);
      sseLab.setScenario({ kind: 'buffer-sse' }, { cutExisting: true });
      lpLab.setScenario(randomCuts, { cutExisting: true });
      await reach('longpoll');
      await delivered((3 * N) / 4);
      wsLab.setScenario(randomCuts, { cutExisting: true });
      await reach('ws');
    });
    console.log(`rung changes ${rungs.join(' → ')}: 10,000 each way exactly once through ${cuts()} cuts`);
    expect(cuts()).toBeGreaterThanOrEqual(MIN_CUTS * ((N - 20) / N));
    // It really moved: down the ladder and back up.
    expect(rungs).toEqual(expect.arrayContaining(['ws', 'sse', 'longpoll']));
    expect(rungs.indexOf('longpoll')).toBeGreaterThan(rungs.indexOf('sse'));
    expect(rungs.lastIndexOf('ws')).toBeGreaterThan(rungs.indexOf('longpoll'));
    s.stop();
  }, 150_000);
});
