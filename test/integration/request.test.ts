import { afterEach, describe, expect, test } from 'vitest';
import { startLab } from '../../lab';
import type { WirefallError } from '../../src/index';
import { claimed, cleanup, client, eventually, startServer, track, until } from '../support/harness';

afterEach(cleanup);

type User = { id: string; name: string };
type Api = {
  client: { note: { text: string } };
  server: { noted: { text: string } };
  rpc: {
    getUser: [{ id: string }, User];
    thumb: [{ image: Uint8Array }, { small: Uint8Array; bytes: number }];
    fail: [{ how: 'coded' | 'bug' | 'bad-reply' }, null];
    wait: [{ ms: number }, number];
  };
};

async function setup(opts: Parameters<typeof startServer>[0] = {}) {
  const { server, port, url } = await startServer<Api>(opts);
  track(server);
  const logged: string[] = [];
  const ran: string[] = [];
  server.on('connection', (conn) => {
    conn.handle('getUser', async ({ id }) => (ran.push(id), { id, name: `user ${id}` }));
    conn.handle('thumb', ({ image }) => ({ small: image.slice(0, 2), bytes: image.length }));
    conn.handle('fail', ({ how }) => {
      if (how === 'coded') throw Object.assign(new Error('no such user'), { code: 'not_found' });
      if (how === 'bad-reply') return new Date() as never;
      throw new Error('secret internal detail');
    });
    conn.handle('wait', ({ ms }) => new Promise((r) => setTimeout(() => r(ms), ms)));
  });
  return { server, port, url, logged, ran };
}

describe('request / reply', () => {
  test('a request resolves with the handler\'s reply; bytes travel in arguments and replies', async () => {
    const { url, ran } = await setup();
    const c = client<Api>(url);
    const user = await c.request('getUser', { id: '7' });
    expect(user).toEqual({ id: '7', name: 'user 7' });
    expect(await c.request('thumb', { image: new Uint8Array([1, 2, 3]) })).toEqual({ small: new Uint8Array([1, 2]), bytes: 3 });
    expect(ran).toEqual(['7']);
  });

  test('the app\'s own error comes back as WF_REQUEST_FAILED with its code; a bug is not leaked', async () => {
    const warnings: string[] = [];
    const { url } = await setup({ logger: { warn: (m) => warnings.push(m) } });
    const c = client<Api>(url);
    await expect(c.request('fail', { how: 'coded' })).rejects.toMatchObject({ code: 'WF_REQUEST_FAILED', remoteCode: 'not_found', message: 'no such user', retryable: false });
    const bug = (await c.request('fail', { how: 'bug' }).catch((e: unknown) => e)) as WirefallError;
    expect(bug).toMatchObject({ code: 'WF_REQUEST_FAILED', remoteCode: 'handler_failed' });
    expect(bug.message).not.toContain('secret');
    expect(warnings.some((w) => w.includes('secret internal detail'))).toBe(true);
    await expect(c.request('fail', { how: 'bad-reply' })).rejects.toMatchObject({ remoteCode: 'bad_reply' });
    await expect(client(url).request('nothing' as never, {} as never)).rejects.toMatchObject({ code: 'WF_REQUEST_FAILED', remoteCode: 'no_handler' });
  });

  test('timeouts, close, arguments that cannot be sent, and reserved types', async () => {
    const { url } = await setup();
    const c = client<Api>(url);
    await until(c, 'open');
    await expect(c.request('wait', { ms: 2000 }, { timeout: 50 })).rejects.toMatchObject({ code: 'WF_TIMEOUT', retryable: true });
    await expect(c.request('getUser', { id: new Date() } as never)).rejects.toMatchObject({ code: 'WF_INVALID', message: expect.stringContaining('"getUser" data.id: Date') });
    await expect(c.send('$call' as never, {} as never)).rejects.toMatchObject({ code: 'WF_INVALID' });
    const pending = c.request('wait', { ms: 2000 });
    await new Promise((r) => setTimeout(r, 50));
    c.close();
    await expect(pending).rejects.toMatchObject({ code: 'WF_CLOSED' });
  });

  test('a session lost while a handler ran rejects its request with WF_SESSION_LOST', async () => {
    const { server, port } = await setup({ sessionTtlMs: 100 });
    const lab = track(await startLab({ upstream: { host: '127.0.0.1', port } }));
    const c = client<Api>(`${lab.url}/wirefall`, { reconnect: { base: 50, max: 50 } });
    await until(c, 'open');
    await claimed(server);
    const pending = c.request('wait', { ms: 300 }).catch((e: WirefallError) => e);
    await new Promise((r) => setTimeout(r, 60)); // the call is acknowledged: its handler runs
    lab.setScenario({ kind: 'proxy-auth' }, { cutExisting: true });
    // The session expires meanwhile (waited for: a loaded machine's reaper may be late).
    await new Promise((r) => setTimeout(r, 150));
    await eventually(() => [...server.connections].length === 0, 10_000, 'the session to expire');
    lab.setScenario({ kind: 'pass' });
    expect(await pending).toMatchObject({ code: 'WF_SESSION_LOST' });
  });

  for (const rung of ['ws', 'longpoll'] as const) {
    test(`${rung}: through random cuts, each handler runs once and each reply arrives once`, async () => {
      const { server, port } = await startServer<Api>({ heartbeatMs: 1000 });
      track(server);
      const runs = new Map<string, number>();
      server.on('connection', (conn) => conn.handle('getUser', async ({ id }) => {
        runs.set(id, (runs.get(id) ?? 0) + 1);
        await new Promise((r) => setTimeout(r, Number(id) % 7)); // replies overtake each other
        return { id, name: `user ${id}` };
      }));
      const lab = track(await startLab({ upstream: { host: '127.0.0.1', port }, scenario: { kind: 'random-cuts', seed: 7, meanMs: 25 } }));
      const c = client<Api>(`${lab.url}/wirefall`, { transports: [rung], reconnect: { base: 4, max: 20 }, answerDeadline: 1000 });
      const N = 400;
      const replies = new Map<string, number>();
      const sent: Promise<void>[] = [];
      const MIN_CUTS = 20;
      for (let i = 0; i < N; i++) {
        // The schedule, not the machine's speed, spreads the calls over the cuts: call i leaves
        // only once the lab has cut MIN_CUTS·i/N connections (as reliability.test.ts does).
        if (i % 20 === 0) await eventually(() => lab.stats.cuts >= Math.floor((MIN_CUTS * i) / N), 30_000, `cut ${Math.floor((MIN_CUTS * i) / N)}`);
        const id = String(i);
        sent.push(c.request('getUser', { id }, { timeout: 60_000 }).then((u) => void replies.set(u.id, (replies.get(u.id) ?? 0) + 1)));
      }
      await Promise.all(sent);
      expect(lab.stats.cuts).toBeGreaterThanOrEqual(MIN_CUTS - 1);
      expect([...runs.values()].every((n) => n === 1) && runs.size === N).toBe(true);
      expect([...replies.values()].every((n) => n === 1) && replies.size === N).toBe(true);
      expect([...server.connections]).toHaveLength(1); // one session throughout: nothing was lost
    }, 90_000);
  }
});
