/**
 * Issue 16, item 6 (protocol 2): no reusable secret in any URL. The HTTP rungs open with a POST
 * that returns a single-use ticket, and long-polls carry the session key in their body.
 */
import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type { RungName } from '../../src/protocol/api';
import { bystander } from '../support/bystander';
import { guardProcess } from '../support/guard';
import { claimed, cleanup, client, eventually, startServer, track, until } from '../support/harness';

guardProcess();
afterEach(cleanup);

/**
 * A fetch that records every URL it is asked for, and can cut what is in flight (once), the
 * network then down for a second: a long-poll link outlives a poll or two lost on the way (it
 * sends them again, docs/protocol.md §2.3), not a network that stays down.
 */
function recordingFetch() {
  const urls: string[] = [];
  const live = new Set<AbortController>();
  let downUntil = 0;
  const f: typeof fetch = (input, init) => {
    urls.push(String(input));
    if (Date.now() < downUntil) return Promise.reject(new TypeError('network is down'));
    const ac = new AbortController();
    live.add(ac);
    const signal = init?.signal ? AbortSignal.any([init.signal, ac.signal]) : ac.signal;
    // Kept after the answer's head: an event stream's body is still in flight.
    return fetch(input, { ...init, signal });
  };
  return {
    fetch: f,
    urls,
    cut() {
      downUntil = Date.now() + 1000;
      for (const ac of live) ac.abort();
      live.clear();
    },
  };
}

describe.each<RungName>(['sse', 'longpoll'])('the %s rung', (rung) => {
  it('puts neither the hello, nor auth, nor the session key in any URL, through an open, messages and a resume', async () => {
    const AUTH = 'secret-credential-0123456789';
    const { server, url } = await startServer({ authenticate: ({ auth }) => (auth === AUTH ? { name: 'ann' } : { status: 401 }) });
    track(server);
    const by = await bystander(server, url, 'ws', { auth: AUTH });
    const rec = recordingFetch();
    const c = client(url, { transports: [rung], auth: AUTH, fetch: rec.fetch, reconnect: { base: 10, max: 50 } });
    await until(c, 'open');
    await c.send('echo', { n: 1 });
    const [first] = (await claimed(server, 2)).filter((x) => x.rung === rung);
    rec.cut(); // the client resumes its session, with its key, on the same rung
    // At least one resume (a loaded machine may stall the new link once more: then another).
    await eventually(() => c.attempts.filter((a) => a.outcome === 'verified').length >= 2 && c.state === 'open', 10_000, `the resume (${JSON.stringify(c.attempts.map((a) => [a.outcome, a.reason]))})`);
    await c.send('echo', { n: 2 });
    expect([...server.connections].filter((x) => x.rung === rung)).toEqual([first]); // resumed, not a new session
    expect(rec.urls.length).toBeGreaterThan(3);
    for (const u of rec.urls) {
      expect(u).not.toContain(first!.key);
      expect(u).not.toContain(encodeURIComponent(first!.key));
      expect(u).not.toContain(AUTH);
      expect(u).not.toMatch(/[?&](hello|key)=/);
    }
    await by.check();
  });
});

describe('tickets', () => {
  const open = async (url: string, rung: 'sse' | 'lp') => {
    const res = await fetch(`${url}?t=${rung}`, { method: 'POST', body: '{"t":"hello","v":2}' });
    expect(res.status).toBe(200);
    return ((await res.json()) as { ticket: string }).ticket;
  };

  it('are single-use, for one rung, and for the address that asked', async () => {
    const { server, url } = await startServer();
    track(server);
    const ticket = await open(url, 'lp');
    const wrongRung = await fetch(`${url}?t=sse&ticket=${ticket}`);
    expect(wrongRung.status).toBe(404); // and it is spent
    expect(((await wrongRung.json()) as { code: string }).code).toBe('ticket_unknown');
    const t2 = await open(url, 'lp');
    const ok = await fetch(`${url}?t=lp&ticket=${t2}`);
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { t: string }[]).map((f) => f.t)).toEqual(['greet', 'welcome']);
    const again = await fetch(`${url}?t=lp&ticket=${t2}`);
    expect(again.status).toBe(404);
    await again.arrayBuffer();
    const t3 = await open(url, 'lp');
    const elsewhere = await new Promise<number>((r) =>
      request(`${url}?t=lp&ticket=${t3}`, { localAddress: '127.0.0.2' }, (res) => (res.resume(), r(res.statusCode!))).end(),
    );
    expect(elsewhere).toBe(404);
  });

  it('a protocol 2 hello in a URL is refused; the poll takes its key from the body', async () => {
    const { server, url } = await startServer();
    track(server);
    const inUrl = await fetch(`${url}?t=lp&hello=${encodeURIComponent('{"t":"hello","v":2}')}`);
    expect(inUrl.status).toBe(400);
    await inUrl.arrayBuffer();
    const ticket = await open(url, 'lp');
    const frames = (await (await fetch(`${url}?t=lp&ticket=${ticket}`)).json()) as { t: string; sid: string; key: string }[];
    const w = frames.find((f) => f.t === 'welcome')!;
    const wrong = await fetch(`${url}?t=lp&sid=${w.sid}&poll=1`, { method: 'POST', body: 'not-the-key' });
    expect(wrong.status).toBe(404);
    await wrong.arrayBuffer();
    await (await fetch(`${url}?t=lp&sid=${w.sid}`, { method: 'POST', body: `${w.key}\n{"t":"ping","n":7}` })).arrayBuffer();
    const poll = await fetch(`${url}?t=lp&sid=${w.sid}&poll=1`, { method: 'POST', body: w.key });
    expect(await poll.json()).toContainEqual({ t: 'pong', n: 7 });
  });
});
