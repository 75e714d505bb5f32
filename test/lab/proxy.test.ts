import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { cutDelays, makeTestCert, seeded, startLab, type Lab, type LabOptions, type Scenario } from '../../lab';

// ---- a small real upstream: JSON, echo, SSE and an echoing WebSocket server ------------------

interface Upstream {
  port: number;
  wsConnections: number;
  wsOrigins: (string | undefined)[];
  wsReceived: string[];
  wsSent: string[];
  requests: { method: string; url: string; headers: http.IncomingHttpHeaders }[];
  sseWrites: number[]; // performance.now() of each SSE event write
  broadcast(msg: string): void;
  close(): Promise<void>;
}

async function startUpstream(cert?: { key: string; cert: string }): Promise<Upstream> {
  const handler: http.RequestListener = (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    up.requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    if (url.pathname === '/json') {
      const body = JSON.stringify({ ok: true, host: req.headers.host, origin: req.headers.origin ?? null });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      return res.end(body);
    }
    if (url.pathname === '/echo') {
      const parts: Buffer[] = [];
      req.on('data', (c: Buffer) => parts.push(c));
      req.on('end', () => res.end(Buffer.concat(parts).toString()));
      return;
    }
    if (url.pathname === '/sse') {
      // ?n=events&every=ms&end=ms-after-last (absent: stay open)
      const n = Number(url.searchParams.get('n') ?? 1);
      const every = Number(url.searchParams.get('every') ?? 20);
      const end = url.searchParams.get('end');
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.flushHeaders();
      let i = 0;
      let timer: NodeJS.Timeout | undefined;
      const tick = (): void => {
        res.write(`data: tick ${i++}\n\n`);
        up.sseWrites.push(performance.now());
        if (i < n) timer = setTimeout(tick, every);
        else if (end !== null) timer = setTimeout(() => res.end(), Number(end));
      };
      tick();
      res.on('close', () => clearTimeout(timer));
      return;
    }
    res.writeHead(404).end();
  };
  const server = cert ? https.createServer(cert, handler) : http.createServer(handler);
  const wss = new WebSocketServer({ server });
  wss.on('connection', (ws, req) => {
    up.wsConnections++;
    up.wsOrigins.push(req.headers.origin);
    ws.on('error', () => {});
    ws.on('message', (d) => {
      up.wsReceived.push(d.toString());
      ws.send(`echo:${d.toString()}`);
    });
    ws.send('hello', () => up.wsSent.push('hello'));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const up: Upstream = {
    port: (server.address() as net.AddressInfo).port,
    wsConnections: 0,
    wsOrigins: [],
    wsReceived: [],
    wsSent: [],
    requests: [],
    sseWrites: [],
    broadcast: (msg) => wss.clients.forEach((c) => c.send(msg, () => up.wsSent.push(msg))),
    close: async () => {
      for (const c of wss.clients) c.terminate();
      await new Promise((r) => wss.close(r));
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
  return up;
}

// ---- bookkeeping: everything a test opens is closed after it ---------------------------------

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(scenario: Scenario, opts: Partial<LabOptions> & { upstreamCert?: { key: string; cert: string } } = {}) {
  const up = await startUpstream(opts.upstreamCert);
  cleanups.push(() => up.close());
  const lab = await startLab({ upstream: { host: '127.0.0.1', port: up.port, tls: !!opts.upstreamCert }, scenario, ...(opts.tls ? { tls: opts.tls } : {}) });
  cleanups.push(() => lab.close());
  return { up, lab };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(cond: () => boolean, ms = 1000): Promise<void> {
  const until = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > until) throw new Error('waitFor timed out');
    await sleep(5);
  }
}

interface Reply { status: number; headers: http.IncomingHttpHeaders; body: string }

function request(url: string, o: { method?: string; headers?: Record<string, string>; body?: string | string[]; ca?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const mod = url.startsWith('https:') ? https : http;
    const req = mod.request(url, { method: o.method ?? 'GET', headers: o.headers, agent: false, ca: o.ca, timeout: 2000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    for (const part of typeof o.body === 'string' ? [o.body] : o.body ?? []) req.write(part);
    req.end();
  });
}

/** Reads an event stream, noting when each event arrives. */
function readSse(url: string) {
  const s = { status: 0, responseAt: 0, events: [] as { data: string; at: number }[], ended: false };
  let buf = '';
  const req = http.get(url, { agent: false }, (res) => {
    s.status = res.statusCode ?? 0;
    s.responseAt = performance.now();
    res.setEncoding('utf8');
    res.on('data', (c: string) => {
      buf += c;
      let i: number;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        s.events.push({ data: buf.slice(0, i).replace(/^data: /, ''), at: performance.now() });
        buf = buf.slice(i + 2);
      }
    });
    res.on('end', () => (s.ended = true));
    res.on('error', () => {});
  });
  req.on('error', () => {});
  cleanups.push(() => req.destroy());
  return s;
}

type Outcome = { kind: 'open' } | { kind: 'status'; status: number } | { kind: 'error'; message: string };

function probe(url: string, opts: WebSocket.ClientOptions = {}) {
  const ws = new WebSocket(url, { ...opts, headers: { origin: 'http://app.test', ...opts.headers } });
  cleanups.push(() => ws.terminate());
  const messages: string[] = [];
  ws.on('message', (d) => messages.push(d.toString()));
  ws.on('error', () => {});
  const outcome = new Promise<Outcome>((resolve) => {
    ws.once('open', () => resolve({ kind: 'open' }));
    ws.once('unexpected-response', (_req, res) => {
      resolve({ kind: 'status', status: res.statusCode ?? 0 });
      ws.terminate();
    });
    ws.once('error', (e) => resolve({ kind: 'error', message: e.message }));
  });
  const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
  return { ws, messages, outcome, closed };
}

/** `p`'s value, or 'timeout' after `ms`; the timer is cleared either way. */
async function race<T>(p: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), ms)));
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

// ---- scenarios --------------------------------------------------------------------------------

describe('lab proxy', () => {
  it('pass: forwards HTTP (Content-Length and chunked bodies), SSE and WebSocket, and counts them', async () => {
    const { up, lab } = await setup({ kind: 'pass' });
    const json = await request(`${lab.url}/json`, { headers: { origin: 'http://app.test' } });
    expect(json.status).toBe(200);
    expect(json.headers.connection).toBe('close');
    // Host and Origin reach the upstream unchanged.
    expect(JSON.parse(json.body)).toEqual({ ok: true, host: `127.0.0.1:${lab.port}`, origin: 'http://app.test' });
    expect((await request(`${lab.url}/echo`, { method: 'POST', body: 'abc' })).body).toBe('abc');
    expect((await request(`${lab.url}/echo`, { method: 'POST', body: ['chunk-1 ', 'chunk-2'] })).body).toBe('chunk-1 chunk-2');
    // A keep-alive client (undici) gets one request per connection and copes.
    for (let i = 0; i < 2; i++) expect(await (await fetch(`${lab.url}/json`)).json()).toMatchObject({ ok: true });

    const sse = readSse(`${lab.url}/sse`);
    await waitFor(() => sse.events.length === 1, 500);
    expect(sse.events[0]!.data).toBe('tick 0');

    const p = probe(lab.wsUrl);
    expect(await p.outcome).toEqual({ kind: 'open' });
    p.ws.send('hi');
    await waitFor(() => p.messages.length === 2);
    expect(p.messages).toEqual(['hello', 'echo:hi']);
    expect(up.wsOrigins).toEqual(['http://app.test']);

    const stats = lab.stats;
    expect(stats.connections).toEqual({ ws: 1, sse: 1, http: 5 });
    expect(stats.upgradesPassed).toBe(1);
    expect(stats.bytesUp).toBeGreaterThan(0);
    expect(stats.bytesDown).toBeGreaterThan(0);
    expect(stats.cuts).toBe(0);
    lab.resetStats();
    expect(lab.stats).toEqual({ connections: { ws: 0, sse: 0, http: 0 }, upgradesPassed: 0, upgradesStripped: 0, bytesUp: 0, bytesDown: 0, cuts: 0, plannedCuts: [], faults: 0, gzipped: 0, waited: 0, peakConnections: 0 });
  });

  it('answers 502 when the upstream is down', async () => {
    const { up, lab } = await setup({ kind: 'pass' });
    await up.close();
    expect((await request(`${lab.url}/json`)).status).toBe(502);
  });

  it('refuse-upgrade 403: the ws client sees 403, plain HTTP still passes', async () => {
    const { up, lab } = await setup({ kind: 'refuse-upgrade', how: '403' });
    expect(await probe(lab.wsUrl).outcome).toEqual({ kind: 'status', status: 403 });
    expect((await request(`${lab.url}/json`)).status).toBe(200);
    expect(up.wsConnections).toBe(0);
  });

  it('strip-upgrade: the handshake reaches the upstream as a plain GET without Upgrade; other requests pass', async () => {
    const { up, lab } = await setup({ kind: 'strip-upgrade' });
    // The upstream answers the plain GET for `/` with its 404, and the ws client sees that answer.
    expect(await probe(`${lab.wsUrl}/`).outcome).toEqual({ kind: 'status', status: 404 });
    // Mixed case and other tokens: only `Upgrade` and the `upgrade` token go.
    const key = 'dGhlIHNhbXBsZSBub25jZQ==';
    const r = await request(`${lab.url}/`, { headers: { Connection: 'keep-alive, Upgrade', Upgrade: 'WebSocket', 'Sec-WebSocket-Key': key, 'Sec-WebSocket-Version': '13' } });
    expect(r.status).toBe(404);
    expect(up.wsConnections).toBe(0);
    const handshakes = up.requests.filter((q) => q.headers['sec-websocket-key'] !== undefined);
    expect(handshakes).toHaveLength(2);
    for (const q of handshakes) {
      expect(q.method).toBe('GET');
      expect(q.headers.upgrade).toBeUndefined();
      expect(q.headers.connection ?? '').not.toMatch(/upgrade/i);
      expect(q.headers['sec-websocket-version']).toBe('13');
    }
    expect(handshakes[1]!.headers['sec-websocket-key']).toBe(key);
    // Plain HTTP and event streams are untouched.
    expect((await request(`${lab.url}/json`)).status).toBe(200);
    const sse = readSse(`${lab.url}/sse`);
    await waitFor(() => sse.events.length === 1, 1000);
    expect(lab.stats).toMatchObject({ connections: { ws: 2, sse: 1, http: 1 }, upgradesPassed: 0, upgradesStripped: 2 });
  });

  it('refuse-upgrade reset: the ws client gets a connection reset', async () => {
    const { up, lab } = await setup({ kind: 'refuse-upgrade', how: 'reset' });
    const o = await probe(lab.wsUrl).outcome;
    expect(o).toMatchObject({ kind: 'error', message: expect.stringMatching(/ECONNRESET|socket hang up/) });
    expect(up.wsConnections).toBe(0);
  });

  it('refuse-upgrade hang: the ws client stays CONNECTING', async () => {
    const { up, lab } = await setup({ kind: 'refuse-upgrade', how: 'hang' });
    const p = probe(lab.wsUrl);
    expect(await race(p.outcome, 300)).toBe('timeout');
    expect(p.ws.readyState).toBe(WebSocket.CONNECTING);
    expect(up.wsConnections).toBe(0);
    expect(lab.stats.connections.ws).toBe(1);
  });

  it('rewrite-connection: the 101 carries Connection: keep-alive and the ws client fails the handshake', async () => {
    const { up, lab } = await setup({ kind: 'rewrite-connection' });
    const o = await probe(lab.wsUrl).outcome;
    // Node's HTTP parser only treats a 101 as an upgrade with `Connection: upgrade`, so `ws`
    // reports the 101 as an unexpected response (as 'Unexpected server response: 101' without a listener).
    expect(o).toEqual({ kind: 'status', status: 101 });
    expect(up.wsConnections).toBe(1); // the server did accept: only the filter broke it

    // Raw look at what the client received.
    const sock = net.connect(lab.port, '127.0.0.1');
    cleanups.push(() => sock.destroy());
    sock.write('GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
    let head = '';
    sock.on('data', (c: Buffer) => (head += c.toString('latin1')));
    await waitFor(() => head.includes('\r\n\r\n'));
    expect(head).toMatch(/^HTTP\/1\.1 101 /);
    expect(head).toMatch(/\r\nConnection: keep-alive\r\n/i);
    expect(head).not.toMatch(/\r\nConnection: Upgrade/i);
    expect(lab.stats.upgradesPassed).toBe(2);
  });

  it('drop-frames: the ws opens but nothing crosses in either direction', async () => {
    const { up, lab } = await setup({ kind: 'drop-frames' });
    const p = probe(lab.wsUrl);
    expect(await p.outcome).toEqual({ kind: 'open' });
    p.ws.send('anyone?');
    await sleep(300);
    expect(up.wsSent).toEqual(['hello']); // the server did send…
    expect(p.messages).toEqual([]); // …but nothing arrived
    expect(up.wsReceived).toEqual([]);
    expect(p.ws.readyState).toBe(WebSocket.OPEN); // silent, not closed
  });

  it('swallow-uplink: downlink arrives, uplink never reaches the server', async () => {
    const { up, lab } = await setup({ kind: 'swallow-uplink' });
    const p = probe(lab.wsUrl);
    expect(await p.outcome).toEqual({ kind: 'open' });
    await waitFor(() => p.messages.length === 1);
    p.ws.send('up');
    await sleep(200);
    expect(up.wsReceived).toEqual([]);
    up.broadcast('later');
    await waitFor(() => p.messages.length === 2);
    expect(p.messages).toEqual(['hello', 'later']);
    expect(lab.stats.bytesUp).toBeGreaterThan(0); // the proxy saw the frame, and dropped it
  });

  it('buffer-sse: holds head and events until enough bytes or the end; other responses pass', async () => {
    const { up, lab } = await setup({ kind: 'buffer-sse' });
    const held = readSse(`${lab.url}/sse`);
    await sleep(250);
    expect(held.status).toBe(0); // not even the head: an EventSource would never open
    expect((await request(`${lab.url}/json`)).status).toBe(200);

    const ending = readSse(`${lab.url}/sse?n=1&end=60`);
    await waitFor(() => ending.ended);
    expect(ending.events.map((e) => e.data)).toEqual(['tick 0']);
    expect(ending.responseAt - up.sseWrites.at(-1)!).toBeGreaterThanOrEqual(55);

    // 60 bytes ≈ 4 chunked events: each batch of 4 arrives together, after its 4th was written.
    up.sseWrites.length = 0;
    lab.setScenario({ kind: 'buffer-sse', bytes: 60 });
    const batched = readSse(`${lab.url}/sse?n=8&every=25`);
    await waitFor(() => batched.events.length === 8);
    expect(batched.events[0]!.at).toBeGreaterThanOrEqual(up.sseWrites[3]!);
    expect(batched.events[3]!.at - batched.events[0]!.at).toBeLessThan(10);
    expect(batched.events[4]!.at).toBeGreaterThanOrEqual(up.sseWrites[7]!);
    expect(lab.stats.connections.sse).toBe(3);
  });

  it('idle-cut: silent connections are cut, busy ones live', async () => {
    // A cut after 500 ms of silence and a busy client writing every 50 ms: a loaded machine's
    // scheduling delays (~100 ms) cannot make the busy one look silent.
    const { lab } = await setup({ kind: 'idle-cut', ms: 500 });
    const t0 = performance.now(); // before accept, so the cut cannot come sooner than 500 ms after
    const quiet = probe(lab.wsUrl);
    const busy = probe(lab.wsUrl);
    await Promise.all([quiet.outcome, busy.outcome]);
    const timer = setInterval(() => busy.ws.send('.'), 50);
    cleanups.push(() => clearInterval(timer));
    expect(await race(quiet.closed, 3000)).toBe(1006);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(498);
    await sleep(700);
    expect(busy.ws.readyState).toBe(WebSocket.OPEN);
    clearInterval(timer);
    expect(await race(busy.closed, 3000)).toBe(1006);
    expect(lab.stats.cuts).toBe(2);
  });

  it('random-cuts: the same seed gives the same cut times', async () => {
    const a = seeded(42);
    const b = seeded(42);
    const xs = Array.from({ length: 5 }, () => a());
    expect(Array.from({ length: 5 }, () => b())).toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(seeded(43)()).not.toBe(xs[0]);

    const scenario: Scenario = { kind: 'random-cuts', seed: 7, meanMs: 30 };
    const next = cutDelays(7, 30);
    const expected = [next(), next(), next()];
    for (let round = 0; round < 2; round++) {
      const { lab } = await setup(scenario);
      for (const planned of expected) {
        const t0 = performance.now();
        const p = probe(lab.wsUrl);
        expect(await race(p.closed, planned + 300)).not.toBe('timeout');
        expect(performance.now() - t0).toBeGreaterThanOrEqual(planned - 2);
      }
      expect(lab.stats.plannedCuts).toEqual(expected);
      expect(lab.stats.cuts).toBe(3);
    }
  });

  it('latency: every chunk is delayed each way, order kept', async () => {
    const { lab } = await setup({ kind: 'latency', ms: 60 });
    let t0 = performance.now();
    expect((await request(`${lab.url}/json`)).status).toBe(200);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(2 * 60 - 2);

    const p = probe(lab.wsUrl);
    expect(await p.outcome).toEqual({ kind: 'open' });
    await waitFor(() => p.messages.length === 1);
    t0 = performance.now();
    for (let i = 0; i < 10; i++) p.ws.send(String(i));
    await waitFor(() => p.messages.length === 11);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(2 * 60 - 2);
    expect(p.messages.slice(1)).toEqual(Array.from({ length: 10 }, (_, i) => `echo:${i}`));
  });

  it('proxy-auth: 407 with Proxy-Authenticate to plain HTTP and to upgrades', async () => {
    const { up, lab } = await setup({ kind: 'proxy-auth' });
    const r = await request(`${lab.url}/json`);
    expect(r.status).toBe(407);
    expect(r.headers['proxy-authenticate']).toBe('Basic realm="lab"');
    expect(await probe(lab.wsUrl).outcome).toEqual({ kind: 'status', status: 407 });
    expect(up.requests).toEqual([]);
    expect(lab.stats.connections).toEqual({ ws: 1, sse: 0, http: 1 });
  });

  it('setScenario: live connections keep theirs unless cutExisting', async () => {
    const { lab } = await setup({ kind: 'pass' });
    const old = probe(lab.wsUrl);
    await old.outcome;
    lab.scenario = { kind: 'drop-frames' };
    const fresh = probe(lab.wsUrl);
    await fresh.outcome;
    old.ws.send('a');
    fresh.ws.send('b');
    await waitFor(() => old.messages.length === 2);
    await sleep(50);
    expect(fresh.messages).toEqual([]);
    lab.setScenario({ kind: 'pass' }, { cutExisting: true });
    expect(await race(Promise.all([old.closed, fresh.closed]), 500)).toEqual([1006, 1006]);
    expect(lab.stats.cuts).toBe(2);
  });

  it('close() ends hanging connections too', async () => {
    const { lab } = await setup({ kind: 'refuse-upgrade', how: 'hang' });
    const p = probe(lab.wsUrl);
    await sleep(30);
    await lab.close();
    expect(await race(p.closed, 500)).toBe(1006);
  });
});

describe('lab proxy over TLS', () => {
  let cert: { key: string; cert: string };
  beforeAll(async () => {
    cert = await makeTestCert();
  }, 30_000);

  it('terminates TLS with the test cert (https and wss)', async () => {
    const { lab } = await setup({ kind: 'pass' }, { tls: cert });
    expect(lab.url).toBe(`https://localhost:${lab.port}`);
    const r = await request(`${lab.url}/json`, { ca: cert.cert });
    expect(r.status).toBe(200);
    const p = probe(lab.wsUrl, { ca: cert.cert });
    expect(await p.outcome).toEqual({ kind: 'open' });
    p.ws.send('tls');
    await waitFor(() => p.messages.length === 2);
    expect(p.messages).toEqual(['hello', 'echo:tls']);
  });

  it('meddles inside TLS like a MITM filter (rewrite-connection, reset)', async () => {
    const { lab } = await setup({ kind: 'rewrite-connection' }, { tls: cert });
    expect(await probe(lab.wsUrl, { ca: cert.cert }).outcome).toEqual({ kind: 'status', status: 101 });
    lab.scenario = { kind: 'refuse-upgrade', how: 'reset' };
    expect((await probe(lab.wsUrl, { ca: cert.cert }).outcome).kind).toBe('error');
  });

  it('talks to a TLS upstream', async () => {
    const { lab } = await setup({ kind: 'pass' }, { upstreamCert: cert });
    expect((await request(`${lab.url}/json`)).status).toBe(200);
    const p = probe(lab.wsUrl);
    expect(await p.outcome).toEqual({ kind: 'open' });
    await waitFor(() => p.messages.length === 1);
  });
});
