/**
 * Issue 16, "errors must tell the truth": an auth backend that fails is a retryable 503, not a
 * final 401; `too_large` is `too_large` on every rung.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { RungName } from '../../src/protocol/api';
import type { WirefallError } from '../../src/index';
import { bystander, serve } from '../support/bystander';
import { guardProcess } from '../support/guard';
import { cleanup, client, eventually, until } from '../support/harness';
import { raw } from '../support/raw';

guardProcess();
afterEach(cleanup);

describe.each<RungName>(['ws', 'sse', 'longpoll'])('an authenticate that throws on %s', (rung) => {
  it('is a retryable 503 auth_unavailable: the client keeps trying and gets in when the backend is back', async () => {
    let calls = 0;
    const { url } = await serve({
      authenticate: async ({ auth }) => {
        if (auth !== 'ok') return { status: 401 as const };
        if (++calls <= 2) throw new Error('auth backend down');
        return { name: 'ann' };
      },
    });
    const c = client(url, { transports: [rung], auth: 'ok', reconnect: { base: 10, max: 50 } });
    const errors: WirefallError[] = [];
    c.on('error', (e) => void errors.push(e));
    await until(c, 'open', 10_000);
    expect(calls).toBe(3);
    const failures = c.attempts.filter((a) => a.outcome === 'failed');
    expect(failures.length).toBe(2);
    for (const f of failures) expect(f).toMatchObject({ reason: 'WF_SERVER_ERROR', status: 503 });
    expect(errors.every((e) => e.retryable)).toBe(true);
  });
});

describe('authenticate has a deadline', () => {
  it('one that never answers fails the hello with 503 auth_unavailable and close 4503', async () => {
    const { server, url } = await serve({
      authTimeoutMs: 200,
      authenticate: ({ auth }) => (auth === 'hang' ? new Promise<never>(() => {}) : { name: String(auth) }),
    });
    const by = await bystander(server, url, 'ws', { auth: 'carol' });
    const r = await raw(url);
    r.ws.send('{"t":"hello","v":1,"auth":"hang"}');
    await eventually(() => !!r.closed(), 5000, 'the close');
    expect(r.closed()!.code).toBe(4503);
    expect(r.frames.find((f) => f.t === 'error')).toMatchObject({ code: 'auth_unavailable', status: 503 });
    await by.check();
  });

  it('on the HTTP rungs the refusal frame says the same', async () => {
    const { url } = await serve({ authenticate: () => Promise.reject(new Error('ldap down')) });
    const hello = encodeURIComponent('{"t":"hello","v":1}');
    const lp = (await (await fetch(`${url}?t=lp&hello=${hello}`)).json()) as Record<string, unknown>[];
    expect(lp.find((f) => f.t === 'error')).toMatchObject({ code: 'auth_unavailable', status: 503 });
    const sse = await (await fetch(`${url}?t=sse&hello=${hello}`)).text();
    expect(sse).toContain('"code":"auth_unavailable"');
  });
});

describe('too_large is too_large on WebSocket too', () => {
  it('a message beyond the payload bound gets the error frame and 4413, not a bare 1009', async () => {
    const { server, url } = await serve();
    const by = await bystander(server, url);
    const r = await raw(url);
    r.ws.send('{"t":"hello","v":1}');
    await eventually(() => r.frames.some((f) => f.t === 'welcome'), 5000, 'the welcome');
    r.ws.send(JSON.stringify({ t: 'msg', s: 1, ev: 'say', d: 'x'.repeat(1024 * 1024 + 100 * 1024) }));
    await eventually(() => !!r.closed(), 5000, 'the close');
    expect(r.closed()!.code).toBe(4413);
    expect(r.frames.find((f) => f.t === 'error')).toMatchObject({ code: 'too_large' });
    await by.check();
  });
});
