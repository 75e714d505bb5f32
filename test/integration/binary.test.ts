import { afterEach, describe, expect, test } from 'vitest';
import WebSocket from 'ws';
import type { Connection } from '../../src/server/index';
import type { AnyApi } from '../../src/protocol/api';
import { cleanup, client, startServer, track, until } from '../support/harness';

afterEach(cleanup);

type Files = {
  client: { put: { name: string; body: Uint8Array; parts: Uint8Array[]; $meta: { $b: string } } };
  server: { got: { name: string; body: Uint8Array; raw: ArrayBuffer } };
};

const bytes = (n: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + 7) & 255);

describe('binary data on every rung, both ways', () => {
  for (const rung of ['ws', 'sse', 'longpoll'] as const) {
    test(`${rung}: Uint8Array and ArrayBuffer anywhere in the data arrive byte for byte, as Uint8Array`, async () => {
      const { server, url } = await startServer<Files>();
      track(server);
      const got: unknown[] = [];
      server.on('connection', (conn) => {
        conn.subscribe('put', (d, c) => {
          got.push(d);
          void c.send('got', { name: d.name, body: d.body, raw: d.parts[1]!.slice().buffer });
        });
      });
      const c = client<Files>(url, { transports: [rung] });
      const back: unknown[] = [];
      c.subscribe('got', (d) => back.push(d));
      await until(c, 'open');
      const put = { name: 'x.bin', body: bytes(70_000), parts: [new Uint8Array(0), bytes(3)], $meta: { $b: 'a string, not bytes' } };
      await c.send('put', put);
      expect(got).toEqual([put]);
      await until(c, 'open');
      for (let i = 0; i < 200 && !back.length; i++) await new Promise((r) => setTimeout(r, 10));
      expect(back).toEqual([{ name: 'x.bin', body: bytes(70_000), raw: bytes(3) }]);
      expect((back[0] as { raw: unknown }).raw).toBeInstanceOf(Uint8Array);
    });
  }

  test('data that cannot make the trip is refused at send with WF_INVALID naming its path; nothing is sent', async () => {
    const { server, url } = await startServer<AnyApi>();
    track(server);
    const seen: unknown[] = [];
    let conn: Connection | undefined;
    server.on('connection', (cn) => ((conn = cn), cn.subscribe('x', (d) => seen.push(d))));
    const c = client<AnyApi>(url);
    await until(c, 'open');
    await expect(c.send('x', { when: new Date() } as never)).rejects.toMatchObject({ code: 'WF_INVALID', message: expect.stringContaining('"x" data.when: Date') });
    await expect(c.send('x', { m: new Map() } as never)).rejects.toMatchObject({ code: 'WF_INVALID', message: expect.stringContaining('"x" data.m: Map') });
    await c.send('x', { ok: 1 });
    expect(seen).toEqual([{ ok: 1 }]);
    // The server refuses the same way.
    await expect(conn!.send('y', { at: [new Date()] } as never)).rejects.toMatchObject({ code: 'WF_INVALID', message: expect.stringContaining('"y" data.at[0]: Date') });
    expect(() => server.broadcast('y', { s: new Set() } as never)).toThrow(expect.objectContaining({ code: 'WF_INVALID' }));
  });

  test('a peer sending broken binary data breaks the protocol: the server closes the link, the message is not delivered', async () => {
    const { server, url } = await startServer<AnyApi>();
    track(server);
    const seen: unknown[] = [];
    server.on('connection', (cn) => cn.subscribe('x', (d) => seen.push(d)));
    const ws = track(new WebSocket(url.replace('http', 'ws')));
    const closed = new Promise<number>((r) => ws.on('close', (code) => r(code)));
    ws.on('open', () => ws.send('{"t":"hello","v":2}'));
    await new Promise<void>((r) => ws.on('message', (m) => String(m).includes('welcome') && r()));
    ws.send('{"t":"msg","s":1,"ev":"x","d":{"$b":"not base64!"},"e":"b64"}');
    expect(await closed).toBe(4000);
    expect(seen).toEqual([]);
  });
});
