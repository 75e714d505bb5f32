import { request as httpRequest } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { makeTestCert, startLab } from '../../lab';
import type { WirefallError } from '../../src/index';
import { createServer } from '../../src/server/index';
import { claimed, cleanup, client, eventually, quiet, startServer, track, until, type Chat } from '../support/harness';
import { mapStorage } from '../support/map-storage';
import { raw } from '../support/raw';

afterEach(cleanup);


describe('WebSocket rung against the reference server', () => {
  test('greets at once, then welcomes a hello with session, heartbeat and limits', async () => {
    const { server, url } = await startServer({ heartbeatMs: 4000, maxMessageBytes: 5000 });
    track(server);
    const r = await raw(url);
    await eventually(() => r.frames.length === 1, 2000, 'greeting');
    expect(r.frames[0]).toEqual({ t: 'greet', v: [3, 2, 1] });
    r.ws.send(JSON.stringify({ t: 'hello', v: 1 }));
    await eventually(() => r.frames.length === 2, 2000, 'welcome');
    expect(r.frames[1]).toMatchObject({ t: 'welcome', v: 1, hb: 4000, ack: 0, resumed: false, max: 5000 });
    expect(typeof r.frames[1]!.sid).toBe('string');
  });

  test('a burst sent in one tick leaves in slices while the app is still sending, not all at the end of the tick', async () => {
    const { server, url } = await startServer();
    track(server);
    const messages: number[] = [];
    const r = await raw(url);
    r.ws.on('message', () => messages.push(r.frames.length));
    server.on('connection', (conn) =>
      conn.subscribe('echo', () => {
        for (let i = 0; i < 1000; i++) void conn.send('echoed', { n: i });
      }),
    );
    r.ws.send('{"t":"hello","v":3}');
    await eventually(() => r.frames.length === 2, 2000, 'welcome');
    const before = messages.length;
    r.ws.send('[{"t":"ack","a":0},{"t":"msg","s":1,"ev":"echo","d":{"n":0}}]');
    await eventually(() => r.frames.filter((f) => f.t === 'msg').length === 1000, 5000, 'the burst');
    const ns = r.frames.filter((f) => f.t === 'msg').map((f) => (f.d as { n: number }).n);
    expect(ns).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    // 1000 small messages fit one write; they came as several, written every 256 sends.
    expect(messages.length - before).toBeGreaterThanOrEqual(4);
  });

  test('attempts of one race share one session; the session follows the one the client speaks on', async () => {
    const { server, url } = await startServer();
    track(server);
    const a = await raw(url);
    const b = await raw(url);
    const other = await raw(url);
    a.ws.send('{"t":"hello","v":1,"race":"r1"}');
    await eventually(() => a.frames.length === 2, 2000, 'welcome a');
    b.ws.send('{"t":"hello","v":1,"race":"r1"}');
    other.ws.send('{"t":"hello","v":1,"race":"r2"}');
    await eventually(() => b.frames.length === 2 && other.frames.length === 2, 2000, 'welcomes');
    expect(b.frames[1]!.sid).toBe(a.frames[1]!.sid);
    expect(other.frames[1]!.sid).not.toBe(a.frames[1]!.sid);
    // Welcomed is not announced: the app hears of a session when its client first speaks.
    expect([...server.connections]).toHaveLength(0);
    a.ws.send('{"t":"ack","a":0}');
    other.ws.send('{"t":"ack","a":0}');
    await claimed(server, 2);
    expect([...server.connections]).toHaveLength(2);
    const [conn] = [...server.connections];
    expect(conn!.rung).toBe('ws');
    // b was parked; speaking on it moves the session there and closes a with 4409.
    b.ws.send('{"t":"ack","a":0}');
    await eventually(() => a.closed() !== undefined, 2000, 'a replaced');
    expect(a.closed()!.code).toBe(4409);
    expect(b.closed()).toBeUndefined();
  });

  test('send and subscribe both ways, acknowledged and in order', async () => {
    const { server, url } = await startServer();
    track(server);
    const fromClient: number[] = [];
    server.on('connection', (conn) => {
      conn.subscribe('echo', (d) => {
        fromClient.push(d.n);
        void conn.send('echoed', { n: d.n });
      });
    });
    const c = client(url);
    const back: number[] = [];
    c.subscribe('echoed', (d) => back.push(d.n));
    const sends = Array.from({ length: 1000 }, (_, n) => c.send('echo', { n }));
    await Promise.all(sends);
    await eventually(() => back.length === 1000, 5000, 'echoes');
    const order = Array.from({ length: 1000 }, (_, n) => n);
    expect(fromClient).toEqual(order);
    expect(back).toEqual(order);
    expect(c.buffered).toEqual({ messages: 0, bytes: 0 });
  });

  test('broadcast reaches every client', async () => {
    const { server, url } = await startServer();
    track(server);
    server.on('connection', (conn) => conn.subscribe('say', (d) => server.broadcast('said', { from: conn.id, text: d.text })));
    const a = client(url);
    const b = client(url);
    const got: string[] = [];
    b.subscribe('said', (m) => got.push(m.text));
    await until(b, 'open');
    await until(a, 'open');
    await claimed(server, 2);
    await a.send('say', { text: 'to everyone' });
    await eventually(() => got.length === 1, 3000, 'broadcast');
    expect(got).toEqual(['to everyone']);
  });

  test('a server that stops answering is found by the heartbeat and abandoned', async () => {
    // A server that welcomes with a 200 ms heartbeat and then freezes.
    const wss = track(new WebSocketServer({ host: '127.0.0.1', port: 0 }));
    await new Promise((r) => wss.once('listening', r));
    wss.on('connection', (ws) => {
      ws.send('{"t":"greet","v":[1]}');
      ws.once('message', () => ws.send(JSON.stringify({ t: 'welcome', v: 3, sid: 'x', key: 'y', hb: 200, ack: 0, resumed: false, max: 1000 })));
    });
    const c = client(`http://127.0.0.1:${(wss.address() as AddressInfo).port}/`, { reconnect: false });
    const errors: WirefallError[] = [];
    c.on('error', (e) => errors.push(e));
    await until(c, 'open');
    const t0 = Date.now();
    await eventually(() => errors.length > 0, 3000, 'stall');
    expect(errors[0]).toMatchObject({ code: 'WF_STALLED', rung: 'ws' });
    expect(Date.now() - t0).toBeLessThan(2500);
  });

  test('the server drops a client that stops answering its pings', async () => {
    const { server, url } = await startServer({ heartbeatMs: 100 });
    track(server);
    const conns: string[] = [];
    server.on('connection', (conn) => conn.on('link', (r) => conns.push(String(r))));
    const r = await raw(url);
    r.ws.send(JSON.stringify({ t: 'hello', v: 1 }));
    await eventually(() => r.frames.length === 2, 2000, 'welcome');
    r.ws.send('{"t":"ack","a":0}'); // claims the session, and then never a pong
    await eventually(() => r.closed() !== undefined, 3000, 'server to drop the silent client');
    expect(r.closed()!.code).toBe(1006); // terminated: a dead peer cannot take a closing handshake
    expect(conns).toContain('null');
  });

  test('a foreign Origin is refused with 403 before the upgrade, and the client says so', async () => {
    const { server, url } = await startServer({ allowedOrigins: ['http://good.test'] });
    track(server);
    class EvilOrigin extends WebSocket {
      constructor(u: string) {
        super(u, { headers: { origin: 'http://evil.test' } });
      }
    }
    const c = client(url, { WebSocket: EvilOrigin as never });
    const errors: WirefallError[] = [];
    c.on('error', (e) => errors.push(e));
    await until(c, 'closed');
    expect(errors[0]).toMatchObject({ code: 'WF_UNAUTHORIZED', status: 403, rung: 'ws' });
    class GoodOrigin extends WebSocket {
      constructor(u: string) {
        super(u, { headers: { origin: 'http://good.test' } });
      }
    }
    await until(client(url, { WebSocket: GoodOrigin as never }), 'open');
  });

  test('authenticate sees the hello and refuses with a status the client receives', async () => {
    const seen: unknown[] = [];
    const { server, url } = await startServer({
      authenticate: ({ auth }) => {
        seen.push(auth);
        return auth === 'good' ? { name: 'ann' } : { status: 401, message: 'bad token' };
      },
    });
    track(server);
    const users: unknown[] = [];
    server.on('connection', (conn) => users.push(conn.user));
    const bad = client(url, { auth: 'nope' });
    const errors: WirefallError[] = [];
    bad.on('error', (e) => errors.push(e));
    await until(bad, 'closed');
    expect(errors[0]).toMatchObject({ code: 'WF_UNAUTHORIZED', status: 401, message: 'bad token' });
    const good = client(url, { auth: () => 'good' });
    await until(good, 'open');
    await claimed(server);
    expect(seen).toEqual(['nope', 'good']);
    expect(users).toEqual([{ name: 'ann' }]);
  });

  test('malformed and oversized input gets a protocol error and a close code, and nobody else notices', async () => {
    const { server, url } = await startServer({ maxMessageBytes: 1000 });
    track(server);
    server.on('connection', (conn) => conn.subscribe('say', (d) => server.broadcast('said', { from: conn.id, text: d.text })));
    const bystander = client(url);
    const heard: string[] = [];
    bystander.subscribe('said', (m) => heard.push(m.text));
    await until(bystander, 'open');

    const garbage = await raw(url);
    garbage.ws.send('this is not json');
    await eventually(() => garbage.closed() !== undefined, 2000, 'close');
    expect(garbage.closed()!.code).toBe(4000);
    expect(garbage.frames.at(-1)).toMatchObject({ t: 'error', code: 'protocol_error', fatal: true });

    const unknown = await raw(url);
    unknown.ws.send('{"t":"hello","v":1}');
    await eventually(() => unknown.frames.length === 2, 2000, 'welcome');
    unknown.ws.send('{"t":"teleport"}');
    await eventually(() => unknown.closed() !== undefined, 2000, 'close');
    expect(unknown.closed()!.code).toBe(4000);

    const big = await raw(url);
    big.ws.send('{"t":"hello","v":1}');
    await eventually(() => big.frames.length === 2, 2000, 'welcome');
    big.ws.send(JSON.stringify({ t: 'msg', s: 1, ev: 'say', d: { text: 'x'.repeat(1500) } }));
    await eventually(() => big.closed() !== undefined, 2000, 'close');
    expect(big.closed()!.code).toBe(4413);

    const wrongVersion = await raw(url);
    wrongVersion.ws.send('{"t":"hello","v":99}');
    await eventually(() => wrongVersion.closed() !== undefined, 2000, 'close');
    expect(wrongVersion.closed()!.code).toBe(4001);
    expect(wrongVersion.frames.at(-1)).toMatchObject({ t: 'error', code: 'unsupported_version' });

    await expect(bystander.send('say', { text: 'x'.repeat(2000) })).rejects.toMatchObject({ code: 'WF_TOO_LARGE' });
    await bystander.send('say', { text: 'still here' });
    await eventually(() => heard.length === 1, 2000, 'bystander');
    expect(bystander.state).toBe('open');
  });

  test('a cut mid-stream is resumed: nothing lost, doubled or reordered, either way', async () => {
    const { server, port } = await startServer({ heartbeatMs: 1000 });
    track(server);
    const lab = track(await startLab({ upstream: { host: '127.0.0.1', port } }));
    const up: number[] = [];
    server.on('connection', (conn) => {
      conn.subscribe('echo', (d) => {
        up.push(d.n);
        void conn.send('echoed', { n: d.n });
      });
    });
    const c = client(`${lab.url}/wirefall`, { reconnect: { base: 20, max: 100 } });
    const down: number[] = [];
    c.subscribe('echoed', (d) => down.push(d.n));
    await until(c, 'open');
    const N = 600;
    const sends: Promise<void>[] = [];
    for (let n = 0; n < N; n++) {
      sends.push(c.send('echo', { n }));
      if (n % 150 === 75) {
        await until(c, 'open');
        await new Promise((r) => setTimeout(r, 5)); // let some of the batch get under way
        lab.cutAll();
        await until(c, 'reconnecting');
      }
    }
    await Promise.all(sends);
    await eventually(() => down.length >= N, 8000, 'all echoes');
    const order = Array.from({ length: N }, (_, n) => n);
    expect(up).toEqual(order);
    expect(down).toEqual(order);
    expect(lab.stats.cuts).toBe(4);
    expect([...server.connections]).toHaveLength(1); // one session throughout
  });

  test('a session that expired while the client was away is reported as lost, and a new one starts', async () => {
    const { server, port } = await startServer({ sessionTtlMs: 100 });
    track(server);
    const lab = track(await startLab({ upstream: { host: '127.0.0.1', port } }));
    const ended: string[] = [];
    server.on('connection', (conn) => conn.on('close', (why) => ended.push(why)));
    const c = client(`${lab.url}/wirefall`, { reconnect: { base: 50, max: 50 } });
    const lost: unknown[] = [];
    c.on('sessionlost', (u) => lost.push(u));
    await until(c, 'open');
    await claimed(server);
    lab.setScenario({ kind: 'proxy-auth' }, { cutExisting: true });
    await eventually(() => ended.length === 1, 3000, 'session expiry on the server');
    expect(ended).toEqual(['session expired']);
    lab.setScenario({ kind: 'pass' });
    await until(c, 'open', 3000);
    expect(lost).toEqual([[]]);
    expect(c.attempts.some((a) => a.reason === 'WF_PROXY_AUTH' && a.status === 407)).toBe(true);
  });

  test('close() ends the session on the server at once', async () => {
    const { server, url } = await startServer();
    track(server);
    const ended: string[] = [];
    server.on('connection', (conn) => conn.on('close', (why) => ended.push(why)));
    const c = client(url);
    await until(c, 'open');
    await claimed(server);
    c.close();
    await eventually(() => ended.length === 1, 2000, 'close on the server');
    expect(ended).toEqual(['client closed']);
  });
});

describe('wss rung over TLS (certificate generated by the test)', () => {
  test('an https URL connects on wss and never tries plain ws', async () => {
    const { key, cert } = await makeTestCert();
    const https = createHttpsServer({ key, cert });
    const server = track(createServer<Chat>({ server: https, logger: quiet }));
    await new Promise<void>((r) => https.listen(0, '127.0.0.1', r));
    track({ close: () => new Promise<void>((r) => (https.closeAllConnections(), https.close(() => r()))) });
    server.on('connection', (conn) => conn.subscribe('say', (d) => void conn.send('said', { from: 'tls', text: d.text })));
    class TrustingWebSocket extends WebSocket {
      constructor(u: string) {
        super(u, { ca: cert });
      }
    }
    const port = (https.address() as AddressInfo).port;
    const c = client(`https://localhost:${port}/wirefall`, { WebSocket: TrustingWebSocket as never, transports: undefined, transportFactories: { sse: undefined, longpoll: undefined } });
    const got: string[] = [];
    c.subscribe('said', (m) => got.push(m.text));
    await c.send('say', { text: 'secure' });
    await eventually(() => got.length === 1, 3000, 'reply');
    expect(c.rung).toBe('wss');
    expect(c.attempts.map((a) => a.rung)).toEqual(['wss']);
  });
});

describe('a WebSocket upgrade stripped by a proxy that does not know WebSocket (RFC 9110 §7.6.1)', () => {
  /** The handshake as such a proxy forwards it: a plain GET that still carries Sec-WebSocket-Key. */
  function strippedHandshake(url: string, headers: Record<string, string> = {}) {
    return new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((resolve, reject) => {
      const req = httpRequest(url, {
        agent: false,
        timeout: 3000,
        headers: { 'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version': '13', ...headers },
      }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      });
      req.on('timeout', () => req.destroy(new Error('timed out')));
      req.on('error', reject);
      req.end();
    });
  }

  test('the server says so with its own code (426 upgrade_stripped) and logs it; a foreign Origin is still refused', async () => {
    const warnings: string[] = [];
    const { server, url } = await startServer({ allowedOrigins: ['http://good.test'], logger: { warn: (m) => void warnings.push(m) } });
    track(server);
    const r = await strippedHandshake(url);
    expect(r.status).toBe(426);
    expect(r.headers['x-wirefall-error']).toBe('upgrade_stripped');
    expect(r.headers.upgrade).toBe('websocket');
    expect(JSON.parse(r.body)).toMatchObject({ t: 'error', code: 'upgrade_stripped', status: 426 });
    expect(warnings.some((w) => /Upgrade header/.test(w))).toBe(true);
    // The origin policy is the app's decision and comes first, stripped or not.
    const evil = await strippedHandshake(url, { Origin: 'http://evil.test' });
    expect(evil.status).toBe(403);
    expect(evil.headers['x-wirefall-error']).toBe('origin');
  });

  test('the client falls through to SSE with WF_UPGRADE_STRIPPED instead of closing for good, and nothing is lost', async () => {
    const { server, port } = await startServer();
    track(server);
    server.on('connection', (conn) => conn.subscribe('echo', (d) => void conn.send('echoed', d)));
    const lab = track(await startLab({ upstream: { host: '127.0.0.1', port }, scenario: { kind: 'strip-upgrade' } }));
    const c = client(`${lab.url}/wirefall`, { transports: ['ws', 'sse'], platform: { storage: mapStorage() } });
    const back: number[] = [];
    c.subscribe('echoed', (d) => back.push(d.n));
    // Sent before the ladder settled: the old client rejected these when it closed.
    const sends = Array.from({ length: 20 }, (_, n) => c.send('echo', { n }));
    // Whichever comes first: the old client ended 'closed' here, and must not time out instead.
    await new Promise<void>((resolve) => {
      if (c.state === 'open' || c.state === 'closed') return resolve();
      const off = c.on('state', (s) => (s === 'open' || s === 'closed') && (off(), resolve()));
    });
    expect(c.state).toBe('open');
    expect(c.rung).toBe('sse');
    expect(c.attempts.find((a) => a.rung === 'ws')).toMatchObject({ outcome: 'failed', reason: 'WF_UPGRADE_STRIPPED', status: 426 });
    expect(lab.stats.upgradesStripped).toBeGreaterThan(0);
    await Promise.all(sends);
    await eventually(() => back.length === 20, 5000, 'echoes');
    expect(back).toEqual(Array.from({ length: 20 }, (_, n) => n));
  });
});
