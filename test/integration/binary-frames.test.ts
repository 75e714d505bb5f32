/**
 * Binary WebSocket messages against the real server on 127.0.0.1 (docs/protocol.md §1.3): data
 * with bytes crosses a WebSocket as one binary message with the bytes raw, both ways; plain JSON
 * stays text; and a message keeps its bytes through everything the delivery layer does: resends
 * on another rung after a cut, replay on resume, fan-out to rooms on mixed rungs, request/reply.
 */
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import type { AnyApi } from '../../src/protocol/api';
import { decodeData } from '../../src/protocol/data';
import { cleanup, client, eventually, startServer, track, until } from '../support/harness';
import { raw } from '../support/raw';

afterEach(cleanup);

const bytes = (n: number, k = 7) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + k) & 255);

/** The `ws` package's WebSocket, counting what the client writes and reads, by kind and size. */
function recording() {
  const log = { sent: [] as { binary: boolean; size: number }[], received: [] as { binary: boolean; size: number }[] };
  const control = { swallowBinary: false, refuse: false, sockets: [] as WebSocket[] };
  class Recording extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      if (control.refuse) throw new Error('WebSocket blocked by the test');
      super(url, protocols);
      control.sockets.push(this);
      this.on('message', (d: Buffer, binary: boolean) => log.received.push({ binary, size: d.length }));
    }
    override send(data: unknown, ...rest: unknown[]): void {
      const binary = typeof data !== 'string';
      // A cut in flight: the write is lost, as on a dying connection.
      if (binary && control.swallowBinary) return;
      log.sent.push({ binary, size: binary ? (data as Uint8Array).length : Buffer.byteLength(data as string) });
      (super.send as (...a: unknown[]) => void)(data, ...rest);
    }
  }
  return { WebSocket: Recording as never, log, control };
}

type Files = {
  client: { put: { name: string; body: Uint8Array }; say: { text: string } };
  server: { got: { name: string; body: Uint8Array }; said: { text: string } };
  rpc: { thumb: [{ image: Uint8Array }, { small: Uint8Array; size: number }] };
};

describe('ws: data with bytes crosses as one binary message, raw', () => {
  test('both ways, 64 KiB: no base64 on the wire; plain JSON stays text', async () => {
    const { server, url } = await startServer<Files>();
    track(server);
    server.on('connection', (conn) => {
      conn.subscribe('put', (d, c) => void c.send('got', { name: d.name, body: d.body.slice().reverse() }));
      conn.subscribe('say', (d, c) => void c.send('said', d));
    });
    const rec = recording();
    const c = client<Files>(url, { WebSocket: rec.WebSocket });
    const got: Files['server']['got'][] = [];
    const said: string[] = [];
    c.subscribe('got', (d) => got.push(d));
    c.subscribe('said', (d) => said.push(d.text));
    await until(c, 'open');

    await c.send('say', { text: 'plain' });
    await eventually(() => said.length === 1, 5000, 'the plain echo');
    expect(rec.log.sent.every((m) => !m.binary)).toBe(true);
    expect(rec.log.received.every((m) => !m.binary)).toBe(true);

    const body = bytes(65_536);
    await c.send('put', { name: 'a.bin', body });
    await eventually(() => got.length === 1, 5000, 'the bytes back');
    expect(got[0]!.name).toBe('a.bin');
    expect(got[0]!.body).toEqual(body.slice().reverse());
    const up = rec.log.sent.filter((m) => m.binary);
    const down = rec.log.received.filter((m) => m.binary);
    expect(up).toHaveLength(1);
    expect(down).toHaveLength(1);
    // Raw: 64 KiB and a header of a few dozen bytes (base64 in text would be over 87 KiB).
    for (const m of [...up, ...down]) expect(m.size).toBeGreaterThan(65_536), expect(m.size).toBeLessThan(65_536 + 200);
  });

  test('request/reply: bytes in the arguments and in the reply, binary both ways', async () => {
    const { server, url } = await startServer<Files>();
    track(server);
    server.on('connection', (conn) => conn.handle('thumb', ({ image }) => ({ small: image.slice(0, 1000), size: image.length })));
    const rec = recording();
    const c = client<Files>(url, { WebSocket: rec.WebSocket });
    await until(c, 'open');
    const image = bytes(20_000, 3);
    expect(await c.request('thumb', { image })).toEqual({ small: image.slice(0, 1000), size: 20_000 });
    expect(rec.log.sent.filter((m) => m.binary).length).toBeGreaterThanOrEqual(1);
    expect(rec.log.received.filter((m) => m.binary).length).toBeGreaterThanOrEqual(1);
  });

  test('fan-out to a room: the ws member gets a binary message, the SSE and long-poll members b64 text, the same bytes', async () => {
    const { server, url } = await startServer<Files>();
    track(server);
    server.on('connection', (conn) => void conn.join('r'));
    const rec = recording();
    const members = [
      client<Files>(url, { WebSocket: rec.WebSocket }),
      client<Files>(url, { transports: ['sse'] }),
      client<Files>(url, { transports: ['longpoll'] }),
    ];
    const got = members.map(() => [] as Uint8Array[]);
    members.forEach((m, i) => m.subscribe('got', (d) => got[i]!.push(d.body)));
    await Promise.all(members.map((m) => until(m, 'open')));
    await eventually(() => [...server.connections].length === 3, 5000, 'three members');
    const body = bytes(5000, 11);
    server.to('r').broadcast('got', { name: 'all', body });
    server.broadcast('got', { name: 'all', body: body.subarray(0, 10) });
    await eventually(() => got.every((g) => g.length === 2), 5000, 'the fan-out');
    for (const g of got) expect(g).toEqual([body, body.subarray(0, 10)]);
    expect(rec.log.received.filter((m) => m.binary).length).toBeGreaterThanOrEqual(1);
  });
});

describe('a message keeps its bytes across rungs', () => {
  test('client → server: written as binary on ws, lost in the cut, resent as b64 text on SSE, delivered once', async () => {
    const { server, url } = await startServer<Files>();
    track(server);
    const put: Uint8Array[] = [];
    server.on('connection', (conn) => conn.subscribe('put', (d) => void put.push(d.body)));
    const rec = recording();
    const c = client<Files>(url, { WebSocket: rec.WebSocket, transports: ['ws', 'sse'], reconnect: { base: 20, max: 50 } });
    await until(c, 'open');
    expect(c.rung).toBe('ws');
    rec.control.swallowBinary = true;
    const body = bytes(30_000, 5);
    const sent = c.send('put', { name: 'x', body });
    await new Promise((r) => setTimeout(r, 50));
    expect(put).toEqual([]); // never reached the server
    // The WebSocket dies, and no WebSocket opens any more: the client moves to SSE.
    rec.control.refuse = true;
    for (const ws of rec.control.sockets) ws.terminate();
    await sent;
    expect(c.rung).toBe('sse');
    expect(put).toEqual([body]);
  });

  test('server → client: written as binary on ws, not acknowledged, replayed as b64 text on long-polling, then binary on ws again', async () => {
    const { server, url } = await startServer<AnyApi>();
    track(server);
    let send: ((d: { body: Uint8Array }) => void) | undefined;
    server.on('connection', (conn) => (send = (d) => void conn.send('got', d).catch(() => {})));
    const body = bytes(4000, 9);

    const first = await raw(url);
    first.ws.send('{"t":"hello","v":2,"bin":1}');
    await eventually(() => first.frames.some((f) => f.t === 'welcome'), 5000, 'the welcome');
    const { sid, key } = first.frames.find((f) => f.t === 'welcome') as { sid: string; key: string };
    first.ws.send('{"t":"ack","a":0}'); // speaking claims the session: `connection` fires
    await eventually(() => !!send, 5000, 'the connection');
    send!({ body });
    await eventually(() => first.frames.some((f) => f.t === 'msg'), 5000, 'the message');
    expect(first.seen.binary).toBe(1);
    expect(first.frames.find((f) => f.t === 'msg')).toEqual({ t: 'msg', s: 1, ev: 'got', d: { body } });
    first.ws.terminate(); // gone without acknowledging it

    // Resumed on long-polling: the same message, as text.
    // Protocol 1 opens a long-poll with a GET (2 with a POST): the simplest to write by hand.
    const hello = encodeURIComponent(JSON.stringify({ t: 'hello', v: 1, sid, key, ack: 0 }));
    const texts: unknown[] = [];
    const lp = await fetch(`${url}?t=lp&hello=${hello}`);
    const answer = await lp.text();
    texts.push(...[JSON.parse(answer) as unknown].flat());
    if (!texts.some((f) => (f as { t: string }).t === 'msg')) {
      const poll = await fetch(`${url}?t=lp&sid=${encodeURIComponent(sid)}&key=${encodeURIComponent(key)}`);
      const polled = await poll.text();
      texts.push(...[JSON.parse(polled) as unknown].flat());
    }
    const replay = texts.find((f) => (f as { t: string }).t === 'msg') as { s: number; d: unknown; e: string };
    expect(replay).toMatchObject({ s: 1, ev: 'got', e: 'b64' });
    expect(decodeData(replay.d, replay.e)).toEqual({ body });

    // And back on a WebSocket, still unacknowledged: binary again.
    const third = await raw(url);
    third.ws.send(JSON.stringify({ t: 'hello', v: 2, sid, key, ack: 0, bin: 1 }));
    await eventually(() => third.frames.some((f) => f.t === 'welcome'), 5000, 'the resumed welcome');
    expect(third.frames.find((f) => f.t === 'welcome')).toMatchObject({ resumed: true });
    third.ws.send('{"t":"ack","a":0}'); // speaking claims the session from the long-poll link
    await eventually(() => third.frames.some((f) => f.t === 'msg'), 5000, 'the replay on ws');
    expect(third.seen.binary).toBeGreaterThanOrEqual(1);
    expect(third.frames.find((f) => f.t === 'msg')).toEqual({ t: 'msg', s: 1, ev: 'got', d: { body } });
  });
});

describe('binary messages are negotiated: each side writes them only to a peer that said it reads them', () => {
  test('the welcome on a WebSocket says `bin`; a hello without `bin` (an older client) gets bytes as b64 text', async () => {
    const { server, url } = await startServer<AnyApi>();
    track(server);
    const sends: ((d: { body: Uint8Array }) => void)[] = [];
    server.on('connection', (conn) => sends.push((d) => void conn.send('got', d).catch(() => {})));
    const old = await raw(url);
    old.ws.send('{"t":"hello","v":2}');
    await eventually(() => old.frames.some((f) => f.t === 'welcome'), 5000, 'the welcome');
    expect(old.frames.find((f) => f.t === 'welcome')).toMatchObject({ bin: 1 }); // the server reads them
    old.ws.send('{"t":"ack","a":0}');
    await eventually(() => sends.length === 1, 5000, 'the connection');
    sends[0]!({ body: bytes(100) });
    await eventually(() => old.frames.some((f) => f.t === 'msg'), 5000, 'the message');
    expect(old.seen.binary).toBe(0);
    expect(old.frames.find((f) => f.t === 'msg')).toMatchObject({ t: 'msg', s: 1, ev: 'got', e: 'b64' });
  });

  test('a client whose server did not say `bin` (an older server) writes bytes as b64 text', async () => {
    // A server older than `bin`, by hand: greet, and a welcome without `bin`; it records what arrives.
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    track({ close: () => new Promise<void>((r) => (wss.clients.forEach((c) => c.terminate()), wss.close(() => r()))) });
    const got: { binary: boolean; text: string }[] = [];
    wss.on('connection', (ws) => {
      ws.send('{"t":"greet","v":[3,2,1]}');
      ws.on('message', (d, binary) => {
        got.push({ binary, text: binary ? '' : String(d) });
        if (!binary && String(d).includes('"hello"')) {
          expect(JSON.parse(String(d))).toMatchObject({ t: 'hello', bin: 1 }); // the client says it reads them
          ws.send(JSON.stringify({ t: 'welcome', v: 3, sid: 's', key: 'k', hb: 5000, ack: 0, resumed: false, max: 1 << 20 }));
        }
      });
    });
    await new Promise((r) => wss.once('listening', r));
    const c = client<AnyApi>(`http://127.0.0.1:${(wss.address() as AddressInfo).port}/wirefall`);
    await until(c, 'open');
    void c.send('put', { body: bytes(100) }).catch(() => {});
    await eventually(() => got.some((m) => m.text.includes('"put"')), 5000, 'the message');
    expect(got.every((m) => !m.binary)).toBe(true);
    const put = got.find((m) => m.text.includes('"put"'))!.text;
    expect(put).toContain('"e":"b64"');
    await c.close();
  });
});
