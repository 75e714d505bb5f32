// @vitest-environment jsdom
import { Server, WebSocket as MockWebSocket } from 'mock-socket';
import { afterEach, beforeEach, expect, test, vi } from 'vitest';
import { connect, type WirefallError } from '../../src/index';
import type { Chat } from '../support/harness';

// mock-socket opens and delivers after 4 ms timeouts, so the fake clock must be advanced.
let server: Server;
const URL_ = 'ws://mock.test:8124/wf';

beforeEach(() => {
  vi.useFakeTimers();
  server = new Server(URL_);
});
afterEach(() => {
  server.stop();
  vi.useRealTimers();
});

function client() {
  const errors: WirefallError[] = [];
  const c = connect<Chat>(URL_, { WebSocket: MockWebSocket as never, transports: ['ws'], reconnect: false });
  c.on('error', (e) => errors.push(e));
  return { c, errors };
}

test('in a browser-like environment the WebSocket rung verifies with greet → hello → welcome', async () => {
  const received: unknown[] = [];
  server.on('connection', (socket) => {
    socket.send('{"t":"greet","v":[1]}');
    socket.on('message', (data) => {
      const v = JSON.parse(String(data));
      for (const f of Array.isArray(v) ? v : [v]) answer(f);
    });
    const answer = (f: { t: string; s: number; d: { text: string } }) => {
      received.push(f);
      if (f.t === 'hello') socket.send(JSON.stringify({ t: 'welcome', v: 3, sid: 'a', key: 'b', hb: 5000, ack: 0, resumed: false, max: 1000 }));
      if (f.t === 'msg') socket.send(JSON.stringify([{ t: 'ack', a: f.s }, { t: 'msg', s: 1, ev: 'said', d: { from: 'srv', text: f.d.text } }]));
    };
  });
  const { c } = client();
  const got: string[] = [];
  c.subscribe('said', (m) => got.push(m.text));
  const sent = c.send('say', { text: 'hi' });
  await vi.advanceTimersByTimeAsync(50);
  expect(c.state).toBe('open');
  await expect(sent).resolves.toBeUndefined();
  expect(got).toEqual(['hi']);
  expect(received[0]).toMatchObject({ t: 'hello', v: 3 });
  c.close();
});

test('a socket that opens but never speaks is a failed attempt (WF_NO_DATA), not an open connection', async () => {
  server.on('connection', () => {
    /* the antivirus case: upgrade passes, nothing flows */
  });
  const { c, errors } = client();
  await vi.advanceTimersByTimeAsync(4999);
  expect(c.state).toBe('connecting');
  await vi.advanceTimersByTimeAsync(10);
  expect(errors[0]).toMatchObject({ code: 'WF_NO_DATA', rung: 'ws' });
  c.close();
});

test('a binary message that is not layout 1 (docs/protocol.md §1.3) is a protocol error', async () => {
  server.on('connection', (socket) => socket.send(new ArrayBuffer(4) as never));
  const { c, errors } = client();
  await vi.advanceTimersByTimeAsync(50);
  expect(errors[0]).toMatchObject({ code: 'WF_PROTOCOL' });
  c.close();
});
