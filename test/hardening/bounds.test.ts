/**
 * Issue 16, "every queue has a bound, every wait a deadline": frame fields, slow readers, what
 * waits for `authenticate`, rates per session and per address, repeated log lines, slow requests.
 */
import { request } from 'node:http';
import { connect as tcp } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { bystander, serve } from '../support/bystander';
import { guardProcess } from '../support/guard';
import { cleanup, client, eventually, track, until } from '../support/harness';
import { raw } from '../support/raw';

guardProcess();
afterEach(cleanup);

const HELLO = encodeURIComponent('{"t":"hello","v":1}');

async function welcomed(url: string, options: WebSocket.ClientOptions = {}) {
  const r = await raw(url, {}, options);
  r.ws.send('{"t":"hello","v":1}');
  await eventually(() => r.frames.some((f) => f.t === 'welcome'), 5000, 'the welcome');
  r.ws.send('{"t":"ack","a":0}');
  return r;
}

/** `n` pings in one transport message: one message each way, `n` pongs queued for the reader. */
const pings = (n: number) => JSON.stringify(Array.from({ length: n }, (_, i) => ({ t: 'ping', n: 1e9 + i })));

describe('every string field is bounded', () => {
  it('a hello with a 1 MB race token is refused, not kept for the session', async () => {
    const { server, url } = await serve();
    const by = await bystander(server, url);
    const closes = await Promise.all(
      Array.from({ length: 20 }, async () => {
        const r = await raw(url);
        r.ws.send(JSON.stringify({ t: 'hello', v: 1, race: 'r'.repeat(1024 * 1024) }));
        await eventually(() => !!r.closed(), 5000, 'the close');
        expect(r.frames.some((f) => f.t === 'welcome')).toBe(false);
        return r.closed()!.code;
      }),
    );
    expect(new Set(closes)).toEqual(new Set([4000]));
    const sse = await fetch(`${url}?t=sse&hello=${encodeURIComponent(JSON.stringify({ t: 'hello', v: 1, race: 'r'.repeat(200) }))}`);
    expect(sse.status).toBe(400);
    await sse.arrayBuffer();
    await by.check();
  });
});

describe('a client that stops reading is closed as a slow reader', () => {
  it('on WebSocket: a ping flood with the downlink unread ends in 4507, the bytes sent bounded', async () => {
    const { server, url } = await serve({ maxBufferedBytes: 256 * 1024 });
    const by = await bystander(server, url);
    const r = await welcomed(url);
    let received = 0;
    r.ws.on('message', (d: Buffer) => void (received += d.length));
    r.ws.pause(); // stop reading: the kernel's buffers fill, then the server's
    for (let i = 0; i < 40; i++) r.ws.send(pings(30_000)); // 1.2 M pongs, about 30 MB if all were sent
    await by.check();
    await new Promise((res) => setTimeout(res, 500));
    r.ws.resume();
    await eventually(() => !!r.closed(), 15_000, 'the close');
    expect(r.closed()!.code).toBe(4507);
    expect(received).toBeLessThan(12 * 1024 * 1024);
    await by.check();
  });

  it('on SSE: the stream is cut once too much waits unread', async () => {
    const { server, url } = await serve({ maxBufferedBytes: 256 * 1024 });
    const by = await bystander(server, url);
    let text = '';
    let ended = false;
    let received = 0;
    const res = await new Promise<import('node:http').IncomingMessage>((ok) => request(`${url}?t=sse&hello=${HELLO}`, ok).end());
    track({ close: () => void res.destroy() });
    res.on('data', (d: Buffer) => {
      received += d.length;
      if (text.length < 10_000) text += String(d);
    });
    res.on('close', () => (ended = true));
    res.on('error', () => {});
    await eventually(() => text.includes('"welcome"'), 5000, 'the welcome');
    const w = JSON.parse(text.split('\n').find((l) => l.includes('"welcome"'))!.slice(6)) as { sid: string; key: string };
    res.pause();
    for (let i = 0; i < 40 && !ended; i++) {
      const p = await fetch(`${url}?t=sse&sid=${w.sid}`, { method: 'POST', body: `${w.key}\n${pings(30_000)}` });
      await p.arrayBuffer();
    }
    res.resume();
    await eventually(() => ended, 15_000, 'the stream to end');
    expect(received).toBeLessThan(12 * 1024 * 1024);
    await by.check();
  });

  it('on long-polling: a session that is not polled while its mailbox overflows loses its link', async () => {
    const { server, url } = await serve({ maxBufferedBytes: 256 * 1024 });
    const by = await bystander(server, url);
    const open = (await (await fetch(`${url}?t=lp&hello=${HELLO}`)).json()) as { t: string; sid?: string; key?: string }[];
    const { sid, key } = open.find((f) => f.t === 'welcome')!;
    for (let i = 0; i < 4; i++) await (await fetch(`${url}?t=lp&sid=${sid}`, { method: 'POST', body: `${key}\n${pings(30_000)}` })).arrayBuffer();
    const poll = await fetch(`${url}?t=lp&sid=${sid}&key=${key}`);
    const body = await poll.text();
    expect(poll.status).toBe(404);
    expect(body.length).toBeLessThan(10_000);
    await by.check();
  });
});

describe('what waits for authenticate is capped', () => {
  it('more than one transport message of frames before the welcome closes with too_large', async () => {
    const { server, url } = await serve({
      authenticate: ({ auth }) => (auth === 'slow' ? new Promise((ok) => setTimeout(() => ok({ name: 'slow' }), 1000)) : { name: 'b' }),
    });
    const by = await bystander(server, url, 'ws', { auth: 'b' });
    const r = await raw(url);
    r.ws.send('{"t":"hello","v":1,"auth":"slow"}');
    const big = (s: number) => JSON.stringify({ t: 'msg', s, ev: 'say', d: 'x'.repeat(700 * 1024) });
    for (let s = 1; s <= 4; s++) r.ws.send(big(s));
    await eventually(() => !!r.closed(), 5000, 'the close');
    expect(r.closed()!.code).toBe(4413);
    expect(r.frames.find((f) => f.t === 'error')).toMatchObject({ code: 'too_large' });
    await by.check();
  });
});

describe('rate limits', () => {
  it('a session over its message rate gets rate_limited and its link closed with 4429', async () => {
    const { server, url } = await serve({ rateLimit: { session: { perSecond: 100, burst: 200 } } });
    const by = await bystander(server, url);
    const r = await welcomed(url);
    for (let i = 0; i < 1000 && r.ws.readyState === WebSocket.OPEN; i++) r.ws.send('{"t":"ping"}');
    await eventually(() => !!r.closed(), 5000, 'the close');
    expect(r.closed()!.code).toBe(4429);
    expect(r.frames.find((f) => f.t === 'error')).toMatchObject({ code: 'rate_limited' });
    await by.check();
  });

  it('an uplink POST over the rate gets 429 rate_limited', async () => {
    const { server, url } = await serve({ rateLimit: { session: { perSecond: 5, burst: 10 } } });
    const by = await bystander(server, url, 'ws');
    const open = (await (await fetch(`${url}?t=lp&hello=${HELLO}`)).json()) as { t: string; sid?: string; key?: string }[];
    const { sid, key } = open.find((f) => f.t === 'welcome')!;
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++) {
      const p = await fetch(`${url}?t=lp&sid=${sid}`, { method: 'POST', body: `${key}\n{"t":"ping"}` });
      statuses.push(p.status);
      await p.arrayBuffer();
    }
    expect(statuses).toContain(429);
    await by.check();
  });

  it('an address over its connection rate gets 429, on the upgrade and on the HTTP rungs', async () => {
    const { server, url } = await serve({ rateLimit: { ip: { perSecond: 1, burst: 5 } } });
    const by = await bystander(server, url);
    const statuses = await Promise.all(
      Array.from({ length: 10 }, () => {
        const ws = track(new WebSocket(url.replace('http', 'ws'), { localAddress: '127.0.0.3' }));
        return new Promise<number | undefined>((r) => {
          ws.on('unexpected-response', (_q, res) => r(res.statusCode));
          ws.on('open', () => r(101));
          ws.on('error', () => r(undefined));
        });
      }),
    );
    expect(statuses.filter((s) => s === 101).length).toBeLessThanOrEqual(6);
    expect(statuses).toContain(429);
    // The bystander's address (127.0.0.1) used one token of its own; the HTTP rungs count too.
    const http: number[] = [];
    for (let i = 0; i < 8; i++) {
      const res = await fetch(`${url}?t=lp&hello=${HELLO}`);
      http.push(res.status);
      await res.arrayBuffer();
    }
    expect(http).toContain(429);
    await by.check();
  });
});

describe('a repeated log event is written once per interval, with a count', () => {
  it('5,000 messages nobody subscribed to write a handful of lines, not 5,000', async () => {
    const { url, lines } = await serve({ logRepeatMs: 60_000 });
    const c = client(url);
    await until(c, 'open');
    await Promise.all(Array.from({ length: 5000 }, (_, i) => c.send('say', { text: String(i) })));
    expect(lines.filter((l) => l.message.includes('no subscriber')).length).toBe(1);
  });
});

describe('slow requests meet deadlines', () => {
  it('a POST body that drips is answered 408 request_timeout and dropped', async () => {
    const { port } = await serve({ bodyTimeoutMs: 300 });
    const sock = tcp(port, '127.0.0.1');
    track({ close: () => void sock.destroy() });
    let answer = '';
    let closed = false;
    sock.on('data', (d) => void (answer += String(d)));
    sock.on('close', () => (closed = true));
    sock.on('error', () => {});
    sock.write('POST /wirefall?t=lp&sid=x HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\nab');
    await eventually(() => closed, 5000, 'the connection to be dropped');
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    expect(answer).toContain('request_timeout');
  });

  it('headers that drip are cut at the headers deadline', async () => {
    const { port } = await serve({ headersTimeoutMs: 500 });
    const sock = tcp(port, '127.0.0.1');
    track({ close: () => void sock.destroy() });
    let closed = false;
    sock.on('close', () => (closed = true));
    sock.on('error', () => {});
    sock.write('GET /wirefall?t=lp HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    const drip = setInterval(() => sock.writable && sock.write('X-Drip: 1\r\n'), 100);
    track({ close: () => clearInterval(drip) });
    await eventually(() => closed, 5000, 'the connection to be cut');
  });
});
