import { afterEach, describe, expect, it } from 'vitest';
import type { ServerOptions } from '../../src/server/index';
import { startLab } from '../../lab';
import { cleanup, client, eventually, startServer, track, until } from '../support/harness';
import { mapStorage } from '../support/map-storage';

type Burst = { client: { up: { n: number; pad: string } }; server: Record<string, never> };

afterEach(cleanup);

/**
 * Protocol 3 on the wire, by hand: the open POST answers with the first poll, and numbered
 * uplink POSTs reach the session in number order, each once, whatever order they arrive in.
 */
async function session(opts: ServerOptions = {}) {
  const s = await startServer(opts);
  track(s.server);
  const got: number[] = [];
  s.server.on('connection', (conn) => conn.subscribe('echo', ({ n }) => void got.push(n)));
  const open = await fetch(`${s.url}?t=lp&u=up1`, { method: 'POST', body: '{"t":"hello","v":3}' });
  expect(open.status).toBe(200);
  const frames = (await open.json()) as { t: string; sid?: string; key?: string; v?: unknown }[];
  expect(frames.map((f) => f.t)).toEqual(['greet', 'welcome']);
  const { sid, key } = frames[1]!;
  const post = (n: number | string, body: string, u = 'up1') =>
    fetch(`${s.url}?t=lp&sid=${sid}&u=${u}&n=${n}`, { method: 'POST', body: `${key}\n${body}` });
  const msg = (s: number) => `{"t":"msg","s":${s},"ev":"echo","d":{"n":${s}}}`;
  return { ...s, got, post, msg };
}

describe('the ordered uplink (protocol 3)', () => {
  it('holds a POST that came early until the one before it arrives, then delivers both in order', async () => {
    const { got, post, msg, server } = await session();
    let early: number | undefined;
    const second = post(2, msg(2)).then((r) => (early = r.status));
    await new Promise((r) => setTimeout(r, 150));
    expect(got).toEqual([]);
    expect(early).toBeUndefined(); // its answer waits: the client's window stays bounded
    expect((await post(1, msg(1))).status).toBe(204);
    await second;
    expect(early).toBe(204);
    expect(got).toEqual([1, 2]);
    // A retry of a delivered number (its first answer lost on the way) changes nothing.
    expect((await post(1, msg(1))).status).toBe(204);
    expect((await post(3, `[${msg(2)},${msg(3)}]`)).status).toBe(204);
    expect(got).toEqual([1, 2, 3]);
    // A late POST of an earlier transport of this session (another uplink id) is turned away.
    expect((await post(4, msg(4), 'old')).status).toBe(404);
    expect(got).toEqual([1, 2, 3]);
    expect([...server.connections][0]!.closed).toBe(false);
  });

  it('refuses a number beyond the window and ends the link, not the server', async () => {
    const { post, msg, got } = await session();
    expect((await post(1, msg(1))).status).toBe(204);
    const far = await post(100, msg(2));
    expect(far.status).toBe(400);
    expect(await far.json()).toMatchObject({ code: 'protocol_error' });
    expect((await post('x', msg(2))).status).toBe(404); // the link is closed: no more uplink
    expect(got).toEqual([1]);
  });

  it('a gap that stays open past its deadline ends the link and answers what it held', async () => {
    const { post, msg, got } = await session({ bodyTimeoutMs: 200 });
    const t0 = Date.now();
    const held = await post(2, msg(2));
    expect(held.status).toBe(409);
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect(got).toEqual([]);
    // The link is over; the client resumes on a new one and sends again what was not acked.
    expect((await post(1, msg(1))).status).toBe(404);
  });
});

describe('a real client bursting on an HTTP rung through random cuts', () => {
  for (const rung of ['sse', 'longpoll'] as const) {
    it(`${rung}: parallel POSTs, every message once and in order`, async () => {
      const { server, port } = await startServer<Burst>();
      track(server);
      const got: number[] = [];
      server.on('connection', (conn) => conn.subscribe('up', ({ n, pad }) => void (pad.length === 200 && got.push(n))));
      const lab = track(await startLab({ upstream: { host: '127.0.0.1', port }, scenario: { kind: 'random-cuts', seed: 5, meanMs: 60 } }));
      // The real fetch, watched: how many uplink POSTs are in flight at once.
      let inFlight = 0;
      let most = 0;
      const watched: typeof fetch = async (input, init) => {
        const uplink = /[?&]n=\d/.test(String(input));
        if (uplink) most = Math.max(most, ++inFlight);
        try {
          return await fetch(input, init);
        } finally {
          if (uplink) inFlight--;
        }
      };
      const c = client<Burst>(`${lab.url}/wirefall`, { transports: [rung], fetch: watched, reconnect: { base: 4, max: 20 }, platform: { storage: mapStorage() } });
      const pad = 'x'.repeat(200);
      const N = 4000;
      for (let round = 0; round < 4; round++) {
        for (let i = 0; i < N / 4; i++) c.send('up', { n: round * (N / 4) + i, pad }).catch(() => {});
        await until(c, 'open', 20_000);
      }
      await eventually(() => got.length >= N, 60_000, 'every message');
      await new Promise((r) => setTimeout(r, 100));
      expect(got).toEqual(Array.from({ length: N }, (_, i) => i));
      expect(most).toBeGreaterThan(1);
      expect(lab.stats.cuts).toBeGreaterThan(0);
    }, 90_000);
  }
});
