import { afterEach, describe, expect, test } from 'vitest';
import type { Client, ClientOptions, RungName, WirefallError } from '../../src/index';
import { startLab, type Scenario } from '../../lab';
import { echoes } from '../support/echoes';
import { cleanup, client, eventually, startServer, track, until, type Chat } from '../support/harness';
import { mapStorage } from '../support/map-storage';
import { namesReason } from './matrix-cases';

/*
 * Middleboxes beyond the matrix (ROADMAP item 4): response timeouts, gateway errors on chosen
 * requests, captive portals, gzip on event streams, a browser's six connections per origin.
 * Each checks wirefall's promise: the client ends on a working rung, and every message both ways
 * arrives exactly once, in order (echoes), within a generous deadline.
 */
afterEach(cleanup);

async function setup(scenario: Scenario, heartbeatMs = 5000) {
  const { server, port } = await startServer({ heartbeatMs });
  track(server);
  server.on('connection', (conn) => conn.subscribe('echo', (d) => void conn.send('echoed', d)));
  const lab = track(await startLab({ upstream: { host: '127.0.0.1', port }, scenario }));
  return { server, lab };
}

function watch(c: Client<Chat>) {
  const seen = { errors: [] as WirefallError[], opens: [] as (RungName | null)[], lost: 0 };
  c.on('error', (e) => seen.errors.push(e));
  c.on('state', (s, r) => s === 'open' && seen.opens.push(r));
  c.on('sessionlost', () => seen.lost++);
  return seen;
}

const opts = (transports: RungName[]): ClientOptions => ({ transports, reconnect: { base: 50, max: 500 }, platform: { storage: mapStorage() } });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('middleboxes (Node)', () => {
  test('a response cut every 1.5 s on SSE: resumes on the same session, nothing lost or doubled', async () => {
    const { server, lab } = await setup({ kind: 'response-timeout', ms: 1500 });
    const c = client(`${lab.url}/wirefall`, opts(['sse', 'longpoll']));
    const seen = watch(c);
    await until(c, 'open');
    await echoes(c, 300, 5000, 0, 20_000);
    expect(lab.stats.cuts).toBeGreaterThan(1);
    expect(seen.opens.length).toBeGreaterThan(1);
    expect(seen.lost).toBe(0);
    expect(c.attempts.every((a) => a.rung === 'sse' || a.outcome !== 'verified')).toBe(true); // never needed to fall
    expect([...server.connections]).toHaveLength(1);
  }, 40_000);

  test('held long-polls cut at 1 s while idle: the client comes back on the same session', async () => {
    const { server, lab } = await setup({ kind: 'response-timeout', ms: 1000 });
    const c = client(`${lab.url}/wirefall`, opts(['longpoll']));
    const seen = watch(c);
    await until(c, 'open');
    await sleep(2500); // the poll is held up to a heartbeat (5 s): cut
    expect(lab.stats.cuts).toBeGreaterThan(0);
    await echoes(c, 100, 1000, 0, 20_000);
    expect(seen.lost).toBe(0);
    expect([...server.connections]).toHaveLength(1);
  }, 40_000);

  test('502 to every WebSocket upgrade (after the server accepted it): falls to SSE with the status, retries WebSocket only on the climb', async () => {
    const { lab } = await setup({ kind: 'gateway-error', status: 502, on: ['upgrade'], every: 1 });
    const c = client(`${lab.url}/wirefall`, opts(['ws', 'sse', 'longpoll']));
    await until(c, 'open');
    await eventually(() => c.rung === 'sse', 15_000, 'the client on SSE');
    expect(c.attempts.find((a) => a.rung === 'ws')).toMatchObject({ outcome: 'failed', reason: 'WF_REFUSED', status: 502 });
    await echoes(c, 100, 500);
    expect(lab.stats.connections.ws).toBeLessThan(5); // the first race, and the climb's 3 s, 6 s …
  }, 40_000);

  test('502 to every event-stream open: long-polling carries, SSE retried on the climb only', async () => {
    const { lab } = await setup({ kind: 'gateway-error', status: 502, on: ['stream'], every: 1 });
    const c = client(`${lab.url}/wirefall`, { ...opts(['sse', 'longpoll']), upgradeProbe: { first: 500, max: 1000 } });
    const seen = watch(c);
    await until(c, 'open');
    expect(c.rung).toBe('longpoll');
    await echoes(c, 200, 3000);
    const sse = c.attempts.filter((a) => a.rung === 'sse');
    expect(sse[0]).toMatchObject({ reason: 'WF_REFUSED', status: 502 });
    // A climb every 0.5-1 s over 3 s: a handful of stream opens, no storm, and no reconnect.
    expect(lab.stats.faults).toBeLessThan(10);
    expect(seen.opens).toEqual(['longpoll']);
  }, 40_000);

  test('504 to one long-poll in three (the answer lost after the server sent it): the poll is sent again on the same link, every message once, in order', async () => {
    const { server, lab } = await setup({ kind: 'gateway-error', status: 504, on: ['poll'], every: 3 });
    let relinks = 0;
    server.on('connection', (conn) => conn.on('link', (rung) => rung && relinks++));
    const c = client(`${lab.url}/wirefall`, opts(['longpoll']));
    const seen = watch(c);
    await until(c, 'open');
    await echoes(c, 300, 3000, 0, 20_000);
    expect(lab.stats.faults).toBeGreaterThan(2);
    // One link: each lost answer came again with the next poll. Before, every 504 lost the link
    // and the client resumed on a new one (9 links for 400 echoes over 6 s).
    expect(seen.errors).toEqual([]);
    expect(seen.opens).toEqual(['longpoll']);
    expect(relinks).toBe(0);
    expect(c.attempts).toHaveLength(1);
    expect(seen.lost).toBe(0);
    expect([...server.connections]).toHaveLength(1);
  }, 40_000);

  test('every poll answered 502: the link is given up after the poll and 3 more tries, and the client comes back once the path does', async () => {
    const { server, lab } = await setup({ kind: 'pass' });
    const c = client(`${lab.url}/wirefall`, opts(['longpoll']));
    const seen = watch(c);
    await until(c, 'open');
    await echoes(c, 20, 200);
    let faultsAtError = -1;
    c.on('error', () => faultsAtError < 0 && (faultsAtError = lab.stats.faults));
    lab.setScenario({ kind: 'gateway-error', status: 502, on: ['poll'], every: 1 });
    await eventually(() => seen.errors.length > 0, 15_000, 'the link given up');
    expect(seen.errors[0]).toMatchObject({ code: 'WF_REFUSED', status: 502 });
    expect(faultsAtError).toBe(4);
    lab.setScenario({ kind: 'pass' });
    await eventually(() => seen.opens.length === 2 && c.state === 'open', 20_000, 'the resume');
    await echoes(c, 20, 200, 20);
    expect(seen.lost).toBe(0);
    expect([...server.connections]).toHaveLength(1);
  }, 40_000);

  test('503 to every other uplink POST and stream open: SSE still carries everything once', async () => {
    const { lab } = await setup({ kind: 'gateway-error', status: 503, on: ['post', 'stream'], every: 2 });
    const c = client(`${lab.url}/wirefall`, opts(['sse', 'longpoll']));
    await until(c, 'open');
    await echoes(c, 300, 3000, 0, 20_000);
    expect(lab.stats.faults).toBeGreaterThan(2);
  }, 40_000);

  test('a captive portal (200 and HTML to everything): the status in the error, a backoff, and a connection once it lets go', async () => {
    const { lab } = await setup({ kind: 'captive-portal' });
    const c = client(`${lab.url}/wirefall`, { transports: ['ws', 'sse', 'longpoll'], platform: { storage: mapStorage() } });
    const seen = watch(c);
    await sleep(3000);
    const st = lab.stats;
    // Full-jitter backoff from 250 ms: a handful of races (three requests each) in 3 s, not hundreds.
    expect(st.connections.ws + st.connections.http).toBeLessThan(40);
    expect(c.state).toBe('connecting');
    expect(seen.errors[0]).toMatchObject({ code: 'WF_REFUSED', status: 200 });
    // Every rung says what it saw: a 200 that is not ours, not a protocol error of the server.
    for (const rung of ['ws', 'sse', 'longpoll'] as const) expect(c.attempts.find((a) => a.rung === rung)).toMatchObject({ reason: 'WF_REFUSED', status: 200 });
    lab.setScenario({ kind: 'pass' });
    await until(c, 'open', 35_000);
    await echoes(c, 100, 200);
  }, 60_000);

  test('a captive portal on long-polling alone: WF_REFUSED with the status 200, not WF_PROTOCOL', async () => {
    const { lab } = await setup({ kind: 'captive-portal' });
    const c = client(`${lab.url}/wirefall`, opts(['longpoll']));
    const seen = watch(c);
    await eventually(() => seen.errors.length > 0, 5000, 'an error');
    expect(seen.errors[0]).toMatchObject({ code: 'WF_REFUSED', status: 200, rung: 'longpoll' });
    expect(lab.stats.connections.http).toBeGreaterThan(0);
  });

  test('event streams gzipped and flushed per chunk: SSE works and carries everything once', async () => {
    const { lab } = await setup({ kind: 'gzip-sse', flush: 'chunk' });
    const c = client(`${lab.url}/wirefall`, opts(['sse', 'longpoll']));
    await until(c, 'open');
    await eventually(() => c.rung === 'sse', 15_000, 'the client on SSE');
    await echoes(c, 200, 1000);
    expect(lab.stats.gzipped).toBeGreaterThan(0);
  }, 40_000);

  test('event streams gzipped and held in the compressor: SSE opens silent (WF_NO_DATA), long-polling carries', async () => {
    const { lab } = await setup({ kind: 'gzip-sse', flush: 'full' });
    const c = client(`${lab.url}/wirefall`, opts(['sse', 'longpoll']));
    await until(c, 'open');
    expect(c.rung).toBe('longpoll');
    await echoes(c, 200, 1000);
    expect(lab.stats.gzipped).toBeGreaterThan(0);
    // Overtaken by long-polling on a loaded machine, the attempt says how far it got: at most that far.
    expect(namesReason(c.attempts.filter((a) => a.rung === 'sse'), 'WF_NO_DATA')).toBe(true);
  }, 40_000);

  test('seven clients through six connections per origin, WebSocket refused: all deliver everything once, in order', async () => {
    const { lab } = await setup({ kind: 'connection-limit', max: 6 });
    const cs = Array.from({ length: 7 }, () => client(`${lab.url}/wirefall`, opts(['ws', 'sse', 'longpoll'])));
    const seen = cs.map(watch);
    // Seven streams for six connections: every uplink POST waits behind another client's stream
    // open until a client's answer deadline passes and it lets its stream go (WF_STALLED). A client
    // that has delivered everything leaves, as a closed tab does: kept open, five finished idle
    // clients held five connections and the last two took turns on the sixth, each stalling 2 s
    // after the other let go, for ever (a livelock: docs/transports.md). Measured on main: 6-63 s,
    // and 2 that never finished, in 28 runs; leaving, 3-5 s (10 runs, 3 beside a CPU hog per core).
    await Promise.all(cs.map(async (c) => (await until(c, 'open', 30_000), await echoes(c, 30, 1000, 0, 60_000), c.close())));
    expect(lab.stats.peakConnections).toBe(6);
    expect(lab.stats.waited).toBeGreaterThan(0);
    // The limit bit: some client had to give a link (or a race) up before all could deliver.
    expect(seen.some((s) => s.errors.length > 0)).toBe(true);
    expect(seen.every((s) => s.lost === 0)).toBe(true);
  }, 120_000);
});
