/**
 * Issue 16, "the process must not die": inputs and app hooks that used to end the server process.
 * `guardProcess` fails a test during which an uncaught exception or unhandled rejection happened.
 */
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { utf8Length } from '../../src/protocol/limits';
import { bystander, serve } from '../support/bystander';
import { guardProcess } from '../support/guard';
import { cleanup, client, eventually, track, until } from '../support/harness';
import { raw } from '../support/raw';

guardProcess();
afterEach(cleanup);

const closed = (ws: WebSocket) =>
  new Promise<{ code: number; reason: string }>((r) => ws.once('close', (code, reason) => r({ code, reason: String(reason) })));

describe('close reasons are cut by UTF-8 bytes', () => {
  it('a frame type of 50 CJK characters before any hello closes that socket, not the process', async () => {
    const { server, url } = await serve();
    const by = await bystander(server, url);
    const r = await raw(url);
    const end = closed(r.ws);
    r.ws.send(JSON.stringify({ t: '漢'.repeat(50) }));
    const { code, reason } = await end;
    expect(code).toBe(4000);
    expect(utf8Length(reason)).toBeLessThanOrEqual(123);
    expect(r.frames.some((f) => f.t === 'error' && f.code === 'protocol_error')).toBe(true);
    await by.check();
  });

  it('an authenticate refusal with a long Cyrillic message closes with 4401, reason cut', async () => {
    const message = 'доступ запрещён для этого пользователя, попробуйте позже снова'.repeat(2);
    const { server, url } = await serve({
      authenticate: ({ auth }) => (auth === 'ok' ? { name: 'ann' } : { status: 401, message }),
    });
    const by = await bystander(server, url, 'ws', { auth: 'ok' });
    const r = await raw(url);
    const end = closed(r.ws);
    r.ws.send('{"t":"hello","v":1,"auth":"bad"}');
    const { code, reason } = await end;
    expect(code).toBe(4401);
    expect(utf8Length(reason)).toBeLessThanOrEqual(123);
    expect(message.startsWith(reason)).toBe(true);
    expect(r.frames.find((f) => f.t === 'error')).toMatchObject({ code: 'unauthorized', status: 401, message });
    await by.check();
  });
});

describe('an allowedOrigins predicate that throws refuses with 403 everywhere', () => {
  const allowedOrigins = (origin: string) => new URL(origin).hostname === '127.0.0.1';

  it('on the WebSocket upgrade', async () => {
    const { server, url, lines } = await serve({ allowedOrigins });
    const by = await bystander(server, url);
    const ws = track(new WebSocket(url.replace('http', 'ws'), { headers: { Origin: 'null' } }));
    const status = await new Promise<number | undefined>((r) => {
      ws.on('unexpected-response', (_req, res) => r(res.statusCode));
      ws.on('open', () => r(101));
      ws.on('error', () => r(undefined));
    });
    expect(status).toBe(403);
    expect(lines.some((l) => l.message.includes('allowedOrigins threw'))).toBe(true);
    await by.check();
  });

  it.each(['?t=sse&hello=%7B%22t%22%3A%22hello%22%2C%22v%22%3A1%7D', '?t=lp&hello=%7B%22t%22%3A%22hello%22%2C%22v%22%3A1%7D', '?t=lp&sid=x'])(
    'on the HTTP rungs (%s)',
    async (q) => {
      const { url } = await serve({ allowedOrigins });
      const res = await fetch(url + q, { method: q.includes('sid') ? 'POST' : 'GET', headers: { Origin: 'null' }, body: q.includes('sid') ? 'k\n[]' : undefined });
      expect(res.status).toBe(403);
      expect(res.headers.get('x-wirefall-error')).toBe('origin');
      await res.arrayBuffer();
    },
  );
});

describe('app hooks that throw or reject are contained, logged, and the session kept', () => {
  it('an async subscribe handler that rejects', async () => {
    const { server, url, lines } = await serve();
    const by = await bystander(server, url);
    server.on('connection', (conn) => conn.subscribe('say', async () => Promise.reject(new Error('db down'))));
    const c = client(url);
    await until(c, 'open');
    await c.send('say', { text: 'a' });
    await c.send('say', { text: 'b' });
    await eventually(() => lines.filter((l) => l.message.includes('"say" subscriber failed')).length >= 1, 5000, 'the failure logged');
    expect(c.state).toBe('open');
    expect(c.attempts).toHaveLength(1);
    await by.check();
  });

  it('throwing close and link listeners, and an async connection listener that rejects', async () => {
    const { server, url, lines } = await serve({ sessionTtlMs: 200 });
    const by = await bystander(server, url);
    server.on('connection', async (conn) => {
      conn.on('close', () => {
        throw new Error('close listener bug');
      });
      conn.on('link', () => {
        throw new Error('link listener bug');
      });
      throw new Error('connection listener bug');
    });
    // A client that claims its session, then vanishes: 'link' (null), and 'close' at the TTL.
    const r = await raw(url);
    r.ws.send('{"t":"hello","v":1}');
    await eventually(() => r.frames.some((f) => f.t === 'welcome'), 5000, 'the welcome');
    r.ws.send('{"t":"ack","a":0}');
    await eventually(() => lines.some((l) => l.message.includes('connection listener failed')), 5000, 'the connection listener failure');
    r.ws.terminate();
    for (const e of ['link', 'close']) await eventually(() => lines.some((l) => l.message.includes(`"${e}" listener failed`)), 5000, `the ${e} listener failure`);
    await by.check();
  });
});
