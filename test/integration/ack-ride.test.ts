/**
 * Acks riding in messages (docs/protocol.md §4, `pa`) against the real server on 127.0.0.1: in a
 * conversation each transport message is one `msg` frame carrying the ack, both ways; a peer that
 * did not say `pa` (an older client or server) still gets `ack` frames; and an ack in a message is
 * checked like an `ack` frame.
 */
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import type { AnyApi } from '../../src/protocol/api';
import { cleanup, client, eventually, startServer, track, until } from '../support/harness';
import { raw } from '../support/raw';

afterEach(cleanup);

type Frame = { t: string; a?: number; s?: number };
const frames = (text: string): Frame[] => [JSON.parse(text) as Frame | Frame[]].flat();

/** The `ws` package's WebSocket, recording every text message the client writes and reads. */
function recording() {
  const log = { sent: [] as string[], received: [] as string[] };
  class Recording extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols);
      this.on('message', (d: Buffer, binary: boolean) => binary || log.received.push(String(d)));
    }
    override send(data: unknown, ...rest: unknown[]): void {
      if (typeof data === 'string') log.sent.push(data);
      (super.send as (...a: unknown[]) => void)(data, ...rest);
    }
  }
  return { WebSocket: Recording as never, log };
}

describe('acks ride in messages between peers that both said `pa`', () => {
  test('an echo conversation: one msg frame per transport message, carrying the ack, both ways; every send settles', async () => {
    const { server, url } = await startServer<AnyApi>();
    track(server);
    server.on('connection', (conn) => conn.subscribe('echo', (d, c) => void c.send('echoed', d)));
    const rec = recording();
    const c = client<AnyApi>(url, { WebSocket: rec.WebSocket });
    // A conversation: each echo is answered in the tick it arrives, as both sides do here.
    const got: number[] = [];
    const sends: Promise<void>[] = [];
    c.subscribe('echoed', (d) => {
      const i = (d as { i: number }).i;
      got.push(i);
      if (i < 4) sends.push(c.send('echo', { i: i + 1 }));
    });
    await until(c, 'open');
    expect(JSON.parse(rec.log.sent[0]!)).toMatchObject({ t: 'hello', pa: 1 });
    expect(frames(rec.log.received.find((m) => m.includes('"welcome"'))!)).toContainEqual(expect.objectContaining({ t: 'welcome', pa: 1 }));

    sends.push(c.send('echo', { i: 0 }));
    await eventually(() => got.length === 5, 5000, 'five echoes');
    await Promise.all(sends); // every send acknowledged: the acks inside messages count
    expect(got).toEqual([0, 1, 2, 3, 4]);
    // From the second turn on, each side has something to acknowledge whenever it writes.
    const up = rec.log.sent.filter((m) => m.includes('"echo"')).slice(1).map(frames);
    const down = rec.log.received.filter((m) => m.includes('"echoed"')).map(frames);
    expect(up).toHaveLength(4);
    expect(down).toHaveLength(5);
    for (const [i, f] of up.entries()) expect(f).toEqual([expect.objectContaining({ t: 'msg', s: i + 2, a: i + 1 })]);
    for (const [i, f] of down.entries()) expect(f).toEqual([expect.objectContaining({ t: 'msg', s: i + 1, a: i + 1 })]);
    expect(c.buffered.messages).toBe(0);
    await c.close();
  });

  test('a message whose ack covers what was never sent is a protocol error, as an ack frame would be', async () => {
    const { server, url } = await startServer<AnyApi>();
    track(server);
    const peer = await raw(url);
    peer.ws.send('{"t":"hello","v":3,"pa":1}');
    await eventually(() => peer.frames.some((f) => f.t === 'welcome'), 5000, 'the welcome');
    peer.ws.send('{"t":"msg","s":1,"a":5,"ev":"x","d":1}');
    await eventually(() => !!peer.closed(), 5000, 'the close');
    expect(peer.closed()!.code).toBe(4000);
    expect(peer.frames.find((f) => f.t === 'error')).toMatchObject({ code: 'protocol_error' });
  });
});

describe('`pa` is negotiated: a peer that did not say it gets ack frames', () => {
  test('a hello without `pa` (an older client): the server writes the ack as a frame of its own', async () => {
    const { server, url } = await startServer<AnyApi>();
    track(server);
    server.on('connection', (conn) => conn.subscribe('echo', (d, c) => void c.send('echoed', d)));
    const old = await raw(url);
    old.ws.send('{"t":"hello","v":3}');
    await eventually(() => old.frames.some((f) => f.t === 'welcome'), 5000, 'the welcome');
    expect(old.frames.find((f) => f.t === 'welcome')).toMatchObject({ pa: 1 }); // the server reads them
    old.ws.send('[{"t":"ack","a":0},{"t":"msg","s":1,"ev":"echo","d":1}]');
    await eventually(() => old.frames.some((f) => f.t === 'msg'), 5000, 'the echo');
    expect(old.frames.filter((f) => f.t === 'ack' || f.t === 'msg')).toEqual([{ t: 'ack', a: 1 }, { t: 'msg', s: 1, ev: 'echoed', d: 1 }]);
  });

  test('a welcome without `pa` (an older server): the client writes the ack as a frame of its own', async () => {
    // An older server, by hand: greet, a welcome without `pa`, then one message; it records what arrives.
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    track({ close: () => new Promise<void>((r) => (wss.clients.forEach((ws) => ws.terminate()), wss.close(() => r()))) });
    const got: string[] = [];
    wss.on('connection', (ws) => {
      ws.send('{"t":"greet","v":[3,2,1]}');
      ws.on('message', (d) => {
        got.push(String(d));
        if (String(d).includes('"hello"')) {
          ws.send(JSON.stringify({ t: 'welcome', v: 3, sid: 's', key: 'k', hb: 5000, ack: 0, resumed: false, max: 1 << 20 }));
          ws.send('{"t":"msg","s":1,"ev":"news","d":1}');
        }
      });
    });
    await new Promise((r) => wss.once('listening', r));
    const c = client<AnyApi>(`http://127.0.0.1:${(wss.address() as AddressInfo).port}/wirefall`);
    // Answered in the tick it arrives: the ack has a message to ride in, were riding allowed.
    c.subscribe('news', () => void c.send('say', 2).catch(() => {}));
    await until(c, 'open');
    await eventually(() => got.some((m) => m.includes('"say"')), 5000, 'the send');
    const said = frames(got.find((m) => m.includes('"say"'))!);
    // (The claim, `ack` 0, may share the transport message: it is written in the same tick.)
    expect(said.slice(-2)).toEqual([{ t: 'ack', a: 1 }, { t: 'msg', s: 1, ev: 'say', d: 2 }]);
    await c.close();
  });
});
