import { afterEach, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { CloseCode, type WirefallError } from '../../src/index';
import type { RungName } from '../../src/core/rungs';
import { platformFrom } from '../../src/platform';
import { longPollTransport } from '../../src/transports/long-polling';
import { sseTransport } from '../../src/transports/sse';
import type { ServerOptions } from '../../src/server/index';
import { cleanup, client, eventually, startServer, track, until, type Chat } from '../support/harness';

afterEach(cleanup);

const HELLO = encodeURIComponent('{"t":"hello","v":1}');

async function serve(opts: ServerOptions = {}) {
  const s = await startServer(opts);
  track(s.server);
  return s;
}

function errorsOf(c: { on(e: 'error', l: (err: WirefallError) => void): () => void }): WirefallError[] {
  const list: WirefallError[] = [];
  c.on('error', (e) => list.push(e));
  return list;
}

/** A fetch whose network can be pulled: requests in flight fail and new ones are refused. */
function pullableFetch() {
  let pulled = false;
  const live = new Set<AbortController>();
  const f: typeof fetch = (input, init) => {
    if (pulled) return Promise.reject(new TypeError('network is down'));
    const ac = new AbortController();
    live.add(ac);
    const signal = init?.signal ? AbortSignal.any([init.signal, ac.signal]) : ac.signal;
    return fetch(input, { ...init, signal }).finally(() => live.delete(ac));
  };
  return {
    fetch: f,
    pull() {
      pulled = true;
      for (const ac of live) ac.abort();
    },
  };
}

/** The one session, once its client has claimed it (the client is open half a round trip earlier). */
const onlyConnection = async <T>(server: { connections: Iterable<T> }): Promise<T> => {
  await eventually(() => [...server.connections].length >= 1, 5000, 'the session to be claimed');
  const all = [...server.connections];
  expect(all).toHaveLength(1);
  return all[0]!;
};

describe.each<RungName>(['sse', 'longpoll'])('the %s rung', (rung) => {
  const t = rung === 'sse' ? 'sse' : 'lp';

  it('connects and verifies on this rung alone', async () => {
    const { url } = await serve();
    const c = client(url, { transports: [rung] });
    await until(c, 'open');
    expect(c.rung).toBe(rung);
    expect(c.attempts.map((a) => [a.rung, a.outcome])).toEqual([[rung, 'verified']]);
  });

  it('keeps order both ways for 500 messages', async () => {
    const { server, url } = await serve();
    const got: number[] = [];
    server.on('connection', (conn) => conn.subscribe('echo', ({ n }) => void got.push(n)));
    const c = client(url, { transports: [rung] });
    const recv: number[] = [];
    c.subscribe('echoed', ({ n }) => void recv.push(n));
    await until(c, 'open');
    const conn = await onlyConnection(server);
    const want = Array.from({ length: 500 }, (_, i) => i);
    const down = Promise.all(want.map((n) => conn.send('echoed', { n })));
    await Promise.all(want.map((n) => c.send('echo', { n })));
    await down;
    expect(got).toEqual(want);
    expect(recv).toEqual(want);
    expect(c.state).toBe('open');
  });

  it('heartbeats keep an idle link alive', async () => {
    // Intervals long enough that a busy machine's scheduling delays (hundreds of ms under a CPU
    // hog) cannot pass for a missed heartbeat; the test is about the mechanism, not the speed.
    const { server, url } = await serve({ heartbeatMs: 600 });
    let sessions = 0;
    const links: (string | null)[] = [];
    server.on('connection', (conn) => {
      sessions++;
      conn.on('link', (r) => links.push(r));
    });
    const c = client(url, { transports: [rung] });
    const errors = errorsOf(c);
    await until(c, 'open');
    await new Promise((r) => setTimeout(r, 3000)); // five heartbeat intervals of silence
    expect(errors).toEqual([]);
    expect(c.state).toBe('open');
    expect(c.rtt).toBeTypeOf('number'); // pings went round
    expect(sessions).toBe(1);
    expect(links).toEqual([]);
    expect((await onlyConnection(server)).rung).toBe(rung);
  });

  it('expires the session when the client vanishes', async () => {
    const { server, url } = await serve({ heartbeatMs: 200, sessionTtlMs: 300 });
    const net = pullableFetch();
    const c = client(url, { transports: [rung], fetch: net.fetch });
    await until(c, 'open');
    const conn = await onlyConnection(server);
    let reason: string | undefined;
    conn.on('close', (r) => (reason = r));
    net.pull();
    await eventually(() => reason !== undefined, 5000, 'session expiry');
    expect(reason).toBe('session expired');
    expect([...server.connections]).toEqual([]);
  });

  it('ends the session at once when the client closes', async () => {
    const { server, url } = await serve();
    const c = client(url, { transports: [rung] });
    await until(c, 'open');
    let reason: string | undefined;
    (await onlyConnection(server)).on('close', (r) => (reason = r));
    c.close();
    await eventually(() => reason !== undefined, 2000, 'session end');
    expect(reason).toBe('client closed');
  });

  it('passes the server\'s end of the session on as a bye', async () => {
    const { server, url } = await serve();
    const c = client(url, { transports: [rung], reconnect: false });
    const errors = errorsOf(c);
    await until(c, 'open');
    (await onlyConnection(server)).close(CloseCode.GoingAway, 'maintenance');
    await until(c, 'closed', 2000);
    expect(errors[0]).toMatchObject({ code: 'WF_DISCONNECTED', closeCode: CloseCode.GoingAway, rung });
    expect(errors[0]!.message).toContain('maintenance');
  });

  it('refuses a foreign origin with a typed 403', async () => {
    const { url } = await serve({ allowedOrigins: ['http://good.example'] });
    const evil: typeof fetch = (input, init) =>
      fetch(input, { ...init, headers: { ...(init?.headers as Record<string, string>), Origin: 'http://evil.example' } });
    const c = client(url, { transports: [rung], fetch: evil });
    const errors = errorsOf(c);
    await until(c, 'closed');
    expect(errors[0]).toMatchObject({ code: 'WF_UNAUTHORIZED', status: 403, rung });
  });

  it('refuses bad credentials: closed, WF_UNAUTHORIZED, 401', async () => {
    const { url } = await serve({ authenticate: () => ({ status: 401, message: 'who are you' }) });
    const c = client(url, { transports: [rung] });
    const errors = errorsOf(c);
    await until(c, 'closed');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: 'WF_UNAUTHORIZED', status: 401, message: 'who are you' });
  });

  it('answers bad POSTs (400, 404, 413) without harm to the session', async () => {
    const { server, url } = await serve({ maxMessageBytes: 1000 });
    const got: number[] = [];
    server.on('connection', (conn) => conn.subscribe('echo', ({ n }) => void got.push(n)));
    const c = client(url, { transports: [rung] });
    await until(c, 'open');
    const conn = await onlyConnection(server);
    const post = (sid: string, body: string) =>
      fetch(`${url}?t=${t}&sid=${encodeURIComponent(sid)}`, { method: 'POST', headers: { 'Content-Type': 'text/plain;charset=UTF-8' }, body });

    const malformed = await post(conn.id, `${conn.key}\nthis is not JSON`);
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ t: 'error', code: 'protocol_error', status: 400, fatal: true });

    const wrongKey = await post(conn.id, `${conn.key}x\n{"t":"ping"}`);
    expect(wrongKey.status).toBe(404);
    expect(wrongKey.headers.get('x-wirefall-error')).toBe('session');
    expect(await wrongKey.json()).toMatchObject({ t: 'error', code: 'session_unknown' });
    expect((await post('nope', `${conn.key}\n{"t":"ping"}`)).status).toBe(404);

    const huge = await post(conn.id, `${conn.key}\n${'x'.repeat(70 * 1024)}`);
    expect(huge.status).toBe(413);
    expect(await huge.json()).toMatchObject({ t: 'error', code: 'too_large' });

    await c.send('echo', { n: 1 });
    expect(got).toEqual([1]);
    expect(c.state).toBe('open');
    expect(conn.closed).toBe(false);
  });
});

describe('HTTP rungs together', () => {
  it('broadcast reaches a WebSocket, an SSE and a long-polling client', async () => {
    const { server, url } = await serve();
    server.on('connection', (conn) => conn.subscribe('say', ({ text }, from) => server.broadcast('said', { from: from.id, text })));
    const clients = (['ws', 'sse', 'longpoll'] as const).map((r) => {
      const c = client<Chat>(url, { transports: [r] });
      const heard: string[] = [];
      c.subscribe('said', ({ text }) => void heard.push(text));
      return { r, c, heard };
    });
    for (const { r, c } of clients) {
      await until(c, 'open');
      expect(c.rung).toBe(r);
    }
    // The server hears of a session when its client first speaks, half a round trip after `open`.
    await eventually(() => [...server.connections].length === 3, 5000, 'three sessions');
    for (const { r, c } of clients) await c.send('say', { text: `hi from ${r}` });
    const all = ['hi from ws', 'hi from sse', 'hi from longpoll'];
    await eventually(() => clients.every((x) => x.heard.length === 3), 5000, 'every broadcast');
    for (const x of clients) expect(x.heard).toEqual(all);
  });

  it('answers SSE with the listed headers, then the greeting before anything else', async () => {
    const { url } = await serve();
    const ac = new AbortController();
    const res = await fetch(`${url}?t=sse&hello=${HELLO}`, { headers: { Accept: 'text/event-stream' }, signal: ac.signal });
    try {
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/event-stream');
      expect(res.headers.get('cache-control')).toBe('no-cache, no-transform');
      expect(res.headers.get('x-accel-buffering')).toBe('no');
      expect(res.headers.get('connection')).toBe('keep-alive');
      const reader = res.body!.getReader();
      const dec = new TextDecoder();
      let text = '';
      while (!text.includes('"welcome"')) text += dec.decode((await reader.read()).value, { stream: true });
      expect(text.startsWith('data: {"t":"greet","v":[3,2,1]}\n\ndata: {"t":"welcome",')).toBe(true);
    } finally {
      ac.abort();
    }
  });

  it('a resume elsewhere takes the session only when the client speaks there; the old link says bye after a grace', async () => {
    const { url } = await serve();
    const ac = new AbortController();
    const res = await fetch(`${url}?t=sse&hello=${HELLO}`, { signal: ac.signal });
    let text = '';
    const reading = (async () => {
      const reader = res.body!.getReader();
      const dec = new TextDecoder();
      for (let r; !(r = await reader.read()).done; ) text += dec.decode(r.value, { stream: true });
    })().catch(() => {});
    try {
      await eventually(() => text.includes('"welcome"'), 2000, 'welcome');
      const w = JSON.parse(/data: (\{"t":"welcome".*)/.exec(text)![1]!) as { sid: string; key: string };
      const ws = track(new WebSocket(url.replace('http:', 'ws:')));
      let resumed = false;
      ws.on('message', (d) => {
        const f = JSON.parse(String(d)) as { t: string; resumed?: boolean };
        if (f.t === 'greet') ws.send(JSON.stringify({ t: 'hello', v: 1, sid: w.sid, key: w.key, ack: 0 }));
        if (f.t === 'welcome') resumed = f.resumed === true;
      });
      await eventually(() => resumed, 2000, 'resume on WebSocket');
      // A hello alone does not move the session (a race loser says hello too): speaking does.
      await new Promise((r) => setTimeout(r, 50));
      expect(text).not.toContain('"bye"');
      ws.send('{"t":"ack","a":0}');
      const at = Date.now();
      const straggler = await fetch(`${url}?t=sse&sid=${w.sid}`, { method: 'POST', body: `${w.key}\n{"t":"ping"}` });
      expect(straggler.status).toBe(204);
      await eventually(() => text.includes('"bye"'), 4000, 'bye');
      expect(Date.now() - at).toBeGreaterThan(1500);
      expect(text).toContain('{"t":"bye","code":4409');
    } finally {
      ac.abort();
      await reading;
    }
  });

  it('long-polling: opens in one round trip, holds one poll per session, 404s unknown sessions', async () => {
    const { url } = await serve();
    const open = await fetch(`${url}?t=lp&hello=${HELLO}`);
    expect(open.headers.get('content-type')).toBe('application/json');
    expect(open.headers.get('cache-control')).toBe('no-store');
    const [greet, welcome] = (await open.json()) as [{ t: string }, { t: string; sid: string; key: string }];
    expect(greet.t).toBe('greet');
    expect(welcome.t).toBe('welcome');
    const q = `${url}?t=lp&sid=${encodeURIComponent(welcome.sid)}&key=${encodeURIComponent(welcome.key)}`;
    const ac = new AbortController();
    const first = fetch(q, { signal: ac.signal });
    await new Promise((r) => setTimeout(r, 50));
    const second = fetch(q, { signal: ac.signal });
    expect(await (await first).text()).toBe('[]'); // the newer poll answered the older one
    ac.abort();
    await second.catch(() => {});

    const unknown = await fetch(`${url}?t=lp&sid=nope&key=nope`);
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('x-wirefall-error')).toBe('session');
    expect(await unknown.json()).toMatchObject({ t: 'error', code: 'session_unknown' });
  });

  it('answers CORS preflights and marks allowed origins; refuses others; 400s bad hellos; 404s other paths', async () => {
    const { url } = await serve({ allowedOrigins: ['http://good.example'] });
    const pre = await fetch(`${url}?t=sse&sid=x`, {
      method: 'OPTIONS',
      headers: { Origin: 'http://good.example', 'Access-Control-Request-Method': 'POST' },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('http://good.example');
    expect(pre.headers.get('vary')).toBe('Origin');

    const lp = await fetch(`${url}?t=lp&hello=${HELLO}`, { headers: { Origin: 'http://good.example' } });
    expect(lp.status).toBe(200);
    expect(lp.headers.get('access-control-allow-origin')).toBe('http://good.example');
    expect(lp.headers.get('access-control-expose-headers')).toBe('x-wirefall-error');
    await lp.text();

    const evil = await fetch(`${url}?t=sse&hello=${HELLO}`, { headers: { Origin: 'http://evil.example' } });
    expect(evil.status).toBe(403);
    expect(evil.headers.get('x-wirefall-error')).toBe('origin');
    expect(evil.headers.get('access-control-allow-origin')).toBeNull();
    expect(await evil.json()).toMatchObject({ t: 'error', status: 403 });

    const bad = await fetch(`${url}?t=sse&hello=${encodeURIComponent('{"t":"ping"}')}`);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ t: 'error' });
    expect((await fetch(`${url}?t=lp&hello=not-json`)).status).toBe(400);

    const other = await fetch(url.replace('/wirefall', '/elsewhere'));
    expect(other.status).toBe(404);
    await other.text();
  });
});

describe.each<RungName>(['sse', 'longpoll'])('the %s transport maps failures', (rung) => {
  const failWith = async (fake: typeof fetch) => {
    const c = client('http://127.0.0.1:9/wirefall', { transports: [rung], fetch: fake, reconnect: false });
    const errors = errorsOf(c);
    await until(c, 'closed');
    return errors[0]!;
  };

  it('407 → WF_PROXY_AUTH, a bare 503 → WF_REFUSED, a rejected fetch → WF_NETWORK', async () => {
    expect(await failWith(async () => new Response(null, { status: 407 }))).toMatchObject({ code: 'WF_PROXY_AUTH', status: 407 });
    expect(await failWith(async () => new Response('busy', { status: 503 }))).toMatchObject({ code: 'WF_REFUSED', status: 503 });
    // A 403 from a middlebox is not the server's refusal: no header, so no fatal WF_UNAUTHORIZED.
    expect(await failWith(async () => new Response('no', { status: 403 }))).toMatchObject({ code: 'WF_REFUSED', status: 403 });
    const net = await failWith(() => Promise.reject(new TypeError('fetch failed')));
    expect(net).toMatchObject({ code: 'WF_NETWORK' });
    expect(net.message).toContain('possibly a proxy');
  });

  it('close() aborts every request and fires nothing afterwards', async () => {
    const events = { open: vi.fn(), message: vi.fn(), close: vi.fn() };
    const signals: AbortSignal[] = [];
    const hang: typeof fetch = (_input, init) =>
      new Promise((_resolve, reject) => {
        signals.push(init!.signal!);
        init!.signal!.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')));
      });
    const factory = rung === 'sse' ? sseTransport : longPollTransport;
    const t = factory({ rung: { name: rung, url: 'http://127.0.0.1:9/wirefall' }, hello: '{"t":"hello","v":1}', platform: platformFrom({ fetch: hang }), events });
    await new Promise((r) => setTimeout(r, 10));
    expect(signals).toHaveLength(1);
    t.close(1000, 'bye');
    t.send('{"t":"ping"}');
    await new Promise((r) => setTimeout(r, 10));
    expect(signals.every((s) => s.aborted)).toBe(true);
    expect(signals).toHaveLength(1);
    expect(events.open).not.toHaveBeenCalled();
    expect(events.close).not.toHaveBeenCalled();
  });
});

describe('the sse transport', () => {
  it('refuses a 200 that is not an event stream (a captive portal)', async () => {
    const portal: typeof fetch = async () => new Response('<html>log in</html>', { headers: { 'Content-Type': 'text/html' } });
    const c = client('http://127.0.0.1:9/wirefall', { transports: ['sse'], fetch: portal, reconnect: false });
    const errors = errorsOf(c);
    await until(c, 'closed');
    expect(errors[0]).toMatchObject({ code: 'WF_REFUSED', status: 200 });
  });
});
