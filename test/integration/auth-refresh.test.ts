import { afterEach, describe, expect, test } from 'vitest';
import { probe, type WirefallError } from '../../src/index';
import { startLab } from '../../lab';
import { cleanup, client, startServer, track, until } from '../support/harness';
import WebSocket from 'ws';

afterEach(cleanup);

/**
 * A token service whose tokens are good once and for `ttlMs`: what `authenticate` sees as
 * `auth`. Each successful hello spends its token, so every reconnect needs a fresh one.
 */
function tokens(ttlMs = 60_000, once = true) {
  let next = 0;
  const issued = new Map<string, number>();
  return {
    issue: () => {
      const t = `tok-${++next}`;
      issued.set(t, Date.now());
      return t;
    },
    issuedAt: (t: string) => issued.get(t),
    authenticate: ({ auth }: { auth?: unknown }) => {
      const at = typeof auth === 'string' ? issued.get(auth) : undefined;
      if (at === undefined || Date.now() - at > ttlMs) return { status: 401 as const };
      if (once) issued.delete(auth as string); // spent
      return { name: String(auth) };
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('credentials that expire', () => {
  for (const rung of ['ws', 'sse', 'longpoll'] as const) {
    test(`${rung}: an async auth callback is awaited before the race, and called again for every reconnect`, async () => {
      const t = tokens();
      const { server, port } = await startServer({ authenticate: t.authenticate });
      track(server);
      const lab = track(await startLab({ upstream: { host: '127.0.0.1', port } }));
      let calls = 0;
      const c = client(`${lab.url}/wirefall`, { transports: [rung], reconnect: { base: 10, max: 50 }, auth: async () => (calls++, await sleep(5), t.issue()) });
      await until(c, 'open');
      await c.send('say', { text: 'one' });
      // Each cut costs the spent token: the reconnect must fetch a fresh one.
      // (a long-poll link between two polls has nothing to cut: cut until the client notices)
      for (let i = 0; i < 250 && c.state === 'open'; i++) (lab.cutAll(), await sleep(20));
      await until(c, 'open');
      await c.send('say', { text: 'two' });
      expect(calls).toBeGreaterThanOrEqual(2);
      expect(c.attempts.filter((a) => a.reason === 'WF_UNAUTHORIZED')).toEqual([]);
    });
  }

  test('a 401 calls auth once more for a fresh token, then connects', async () => {
    const t = tokens(300);
    const { server, url } = await startServer({ authenticate: t.authenticate });
    track(server);
    const stale = t.issue();
    await sleep(350); // the cached token expired
    const given: string[] = [];
    // An app that hands out its cached token until the server refuses it.
    const c = client(url, { auth: async () => (given.push(given.length ? t.issue() : stale), given[given.length - 1]) });
    await until(c, 'open');
    expect(given).toEqual([stale, expect.stringMatching(/^tok-/)]);
    expect(given[1]).not.toBe(stale);
  });

  test('credentials refused twice in a row end the client with WF_UNAUTHORIZED: one retry, not a loop', async () => {
    const { server, url } = await startServer({ authenticate: () => ({ status: 401 }) });
    track(server);
    let calls = 0;
    const errors: WirefallError[] = [];
    const c = client(url, { auth: () => Promise.resolve(`t${++calls}`) });
    c.on('error', (e) => errors.push(e));
    await until(c, 'closed');
    expect(calls).toBe(2);
    expect(errors.at(-1)).toMatchObject({ code: 'WF_UNAUTHORIZED', status: 401 });
  });

  test('a 403 is final at once: no fresh token changes a refusal of the user', async () => {
    const { server, url } = await startServer({ authenticate: () => ({ status: 403 }) });
    track(server);
    let calls = 0;
    const c = client(url, { auth: async () => `t${++calls}` });
    await until(c, 'closed');
    expect(calls).toBe(1);
  });

  test('an auth callback that rejects is WF_AUTH, retried with backoff, and connects once it recovers', async () => {
    const t = tokens();
    const { server, url } = await startServer({ authenticate: t.authenticate });
    track(server);
    let calls = 0;
    const errors: string[] = [];
    const c = client(url, { reconnect: { base: 10, max: 20 }, auth: async () => (++calls < 3 ? Promise.reject(new Error('token service down')) : t.issue()) });
    c.on('error', (e) => errors.push(e.code));
    await until(c, 'open');
    expect(errors.slice(0, 2)).toEqual(['WF_AUTH', 'WF_AUTH']);
    expect(calls).toBe(3);
  });

  test('probe() awaits async credentials, and retries a 401 once with fresh ones', async () => {
    // Every rung of a probe carries the same hello: these tokens are good for many uses.
    const t = tokens(60_000, false);
    const { server, url } = await startServer({ authenticate: t.authenticate });
    track(server);
    const ok = await probe(url, { WebSocket: WebSocket as never, transports: ['ws', 'sse'], auth: async () => t.issue() });
    expect(ok.rungs.map((r) => r.ok)).toEqual([true, true]);
    // Only the first hello's token is a stale one: the retried probe succeeds on every rung.
    let call = 0;
    const retried = await probe(url, { WebSocket: WebSocket as never, transports: ['ws', 'sse'], auth: async () => (call++ === 0 ? 'stale' : t.issue()) });
    expect(retried.rungs.map((r) => r.ok)).toEqual([true, true]);
    expect(call).toBe(2);
  });
});
