/**
 * Prometheus metrics (wirefall/server/metrics) on a real server, scraped over HTTP from the
 * real endpoint the app mounts: sessions by rung, attempts clients reported (by rung and reason
 * code), messages both ways, replay sizes and refusals by wire code.
 */
import { createServer as createHttpServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { serverMetrics } from '../../src/server/metrics';
import type { AttemptReport } from '../../src/server/index';
import { cleanup, client, eventually, startServer, track, until, type Chat } from '../support/harness';
import { raw } from '../support/raw';

afterEach(cleanup);

/** The exposition text as `name{labels} value` → value. */
async function scrape(url: string): Promise<Map<string, number>> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/text\/plain/);
  const out = new Map<string, number>();
  for (const line of (await res.text()).split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

/** A WebSocket that never reaches the server: a real refused connection (port 1), so the ws attempt fails. */
class Unreachable extends WebSocket {
  constructor(_url: string | URL, protocols?: string | string[]) {
    super('ws://127.0.0.1:1/', protocols);
  }
}

async function metricsServer() {
  const metrics = serverMetrics({ labels: { node: 'a' } });
  const http: Server = createHttpServer((req, res) => {
    if (req.url === '/metrics') metrics.handler(req, res);
  });
  const { server } = await startServer<Chat>({
    server: http,
    metrics,
    authenticate: ({ auth }) => (auth === 'mallory' ? { status: 403 } : String(auth ?? 'anon')),
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(http.address() as { port: number }).port}`;
  track({ close: () => new Promise<void>((r) => (http.closeAllConnections(), http.close(() => r()))) });
  track(server);
  return { server, metrics, base, wf: `${base}/wirefall` };
}

describe('wirefall/server/metrics', () => {
  it('counts sessions by rung, reported attempts, messages, replay and refusals; the app sees conn.attempts', async () => {
    const { server, base, wf } = await metricsServer();
    const reports: { user: unknown; attempts: readonly AttemptReport[] }[] = [];
    server.on('connection', (conn) => {
      conn.on('attempts', (attempts) => reports.push({ user: conn.user, attempts }));
      conn.subscribe('echo', (d) => void conn.send('echoed', d).catch(() => {}));
    });
    const ws = client(wf, { auth: 'ann' });
    const sse = client(wf, { transports: ['sse'], auth: 'bob' });
    // WebSocket fails for real (refused), long-polling carries the session.
    const lp = client(wf, { transports: ['ws', 'longpoll'], WebSocket: Unreachable as never, auth: 'cy', stagger: 0 });
    await Promise.all([until(ws, 'open'), until(sse, 'open'), until(lp, 'open', 10_000)]);
    expect(lp.rung).toBe('longpoll');
    for (const c of [ws, sse, lp]) {
      const got: number[] = [];
      c.subscribe('echoed', (d) => void got.push(d.n));
      for (let n = 0; n < 10; n++) void c.send('echo', { n });
      await eventually(() => got.length === 10, 10_000, 'ten echoes');
    }
    await eventually(() => reports.length === 3, 5000, 'three reports');
    const cy = reports.find((r) => r.user === 'cy')!;
    expect(cy.attempts.map((a) => [a.rung, a.outcome, a.reason])).toEqual(expect.arrayContaining([['ws', 'failed', 'WF_NETWORK'], ['longpoll', 'verified', undefined]]));
    const cyConn = [...server.connections].find((c) => c.user === 'cy')!;
    expect(cyConn.attempts).toEqual(cy.attempts);
    // authenticate refuses one client: a refusal counted by its wire code.
    const mallory = client(wf, { auth: 'mallory' });
    await until(mallory, 'closed', 10_000);
    const m = await scrape(`${base}/metrics`);
    expect(m.get('wirefall_sessions{rung="ws",node="a"}')).toBe(1);
    expect(m.get('wirefall_sessions{rung="sse",node="a"}')).toBe(1);
    expect(m.get('wirefall_sessions{rung="longpoll",node="a"}')).toBe(1);
    expect(m.get('wirefall_sessions{rung="wss",node="a"}')).toBe(0);
    expect(m.get('wirefall_messages_total{direction="in",node="a"}')).toBe(30);
    expect(m.get('wirefall_messages_total{direction="out",node="a"}')).toBe(30);
    expect(m.get('wirefall_attempts_total{rung="ws",outcome="failed",reason="WF_NETWORK",node="a"}')).toBe(1);
    expect(m.get('wirefall_attempts_total{rung="longpoll",outcome="verified",reason="none",node="a"}')).toBe(1);
    expect(m.get('wirefall_attempts_total{rung="sse",outcome="verified",reason="none",node="a"}')).toBe(1);
    expect(m.get('wirefall_attempts_total{rung="ws",outcome="verified",reason="none",node="a"}')).toBe(1);
    expect(m.get('wirefall_refusals_total{code="unauthorized",node="a"}')).toBe(1);
    expect(m.get('wirefall_replay_messages{node="a"}')).toBeGreaterThanOrEqual(0);
    // Counters keep counting across scrapes (the per-message tally is handed over, not lost).
    for (let n = 10; n < 15; n++) void ws.send('echo', { n });
    await eventually(() => [...server.connections].every((c) => c.buffered.messages === 0), 5000, 'acks');
    const again = await scrape(`${base}/metrics`);
    expect(again.get('wirefall_messages_total{direction="in",node="a"}')).toBe(35);
  });

  it('replay sizes: messages a client has not acknowledged', async () => {
    const { server, base, wf } = await metricsServer();
    const r = await raw(wf);
    r.ws.send(JSON.stringify({ t: 'hello', v: 2, auth: 'eve' }));
    await eventually(() => r.frames.some((f) => f.t === 'welcome'), 5000, 'a welcome');
    r.ws.send('{"t":"ack","a":0}');
    const conn = await eventually(() => [...server.connections].length === 1, 5000, 'a session').then(() => [...server.connections][0]!);
    for (let n = 0; n < 3; n++) void conn.send('echoed', { n }).catch(() => {});
    await eventually(() => r.frames.filter((f) => f.t === 'msg').length === 3, 5000, 'three messages');
    const m = await scrape(`${base}/metrics`);
    expect(m.get('wirefall_replay_messages{node="a"}')).toBe(3);
    expect(m.get('wirefall_replay_messages_max{node="a"}')).toBe(3);
    expect(m.get('wirefall_replay_bytes{node="a"}')).toBeGreaterThan(0);
    // The raw client reported nothing: no attempt counted, the app's list is empty.
    expect(conn.attempts).toEqual([]);
    r.ws.send('{"t":"ack","a":3}');
    await eventually(() => conn.buffered.messages === 0, 5000, 'the ack');
    expect((await scrape(`${base}/metrics`)).get('wirefall_replay_messages{node="a"}')).toBe(0);
  });

  it('a server without metrics announces reports and keeps conn.attempts all the same', async () => {
    const { server, url } = await startServer<Chat>();
    track(server);
    const c = client(url, { transports: ['sse'] });
    await until(c, 'open');
    const conn = await eventually(() => [...server.connections].length === 1, 5000, 'a session').then(() => [...server.connections][0]!);
    await eventually(() => conn.attempts.length === 1, 5000, 'the report');
    expect(conn.attempts[0]).toMatchObject({ rung: 'sse', outcome: 'verified' });
  });
});
