import { Server, WebSocket as MockWebSocket } from 'mock-socket';
import { afterEach, beforeEach, expect, vi, type MockInstance } from 'vitest';
import type { ClientOptions } from '../../src/index';

export type { Chat } from '../support/harness';

let mockPort = 20_000;

/**
 * An in-process wirefall server on mock-socket: greets, welcomes, acknowledges every message and
 * answers pings. Each call gets its own URL (mock-socket servers are global by URL).
 */
export function mockServer() {
  const url = `http://mock.test:${mockPort++}/wf`;
  const server = new Server(url.replace('http:', 'ws:'));
  const received: { type: string; data: unknown }[] = [];
  const sockets = new Set<{ send(d: string): void; close(): void }>();
  let connections = 0;
  let seq = 0;
  server.on('connection', (socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.send('{"t":"greet","v":[1]}');
    socket.on('message', (raw) => {
      const parsed = JSON.parse(String(raw));
      for (const f of Array.isArray(parsed) ? parsed : [parsed]) {
        if (f.t === 'hello') socket.send('{"t":"welcome","v":3,"sid":"a","key":"b","hb":5000,"ack":0,"resumed":false,"max":100000}');
        if (f.t === 'ping') socket.send(JSON.stringify({ t: 'pong', n: f.n }));
        if (f.t === 'msg') {
          received.push({ type: f.ev, data: f.d });
          socket.send(JSON.stringify({ t: 'ack', a: f.s }));
        }
      }
    });
  });
  return {
    url,
    received,
    /** Sessions the server has accepted so far. */
    connections: () => connections,
    /** Sockets open now. */
    open: () => sockets.size,
    /** Pushes a message to every open socket. */
    push(type: string, data: unknown) {
      seq++;
      for (const s of sockets) s.send(JSON.stringify({ t: 'msg', s: seq, ev: type, d: data }));
    },
    /** Cuts every socket (the client reconnects). */
    cut() {
      for (const s of [...sockets]) s.close();
    },
    stop: () => new Promise<void>((resolve) => server.stop(() => resolve())),
  };
}

/** Client options for a mock server: mock-socket's WebSocket, the `ws` rung only, no memory. */
export const mockOptions: ClientOptions = { WebSocket: MockWebSocket as never, transports: ['ws'], rememberRungMs: 0, reconnect: { base: 5, max: 20 } };

/**
 * Fails the test on any `console.error`: React reports act() warnings, effects that leak and
 * updates on unmounted trees there. Tests that expect an error swap in their own spy.
 */
export function failOnConsoleError(): void {
  let spy: MockInstance<typeof console.error>;
  beforeEach(() => {
    spy = vi.spyOn(console, 'error');
  });
  afterEach(() => {
    const calls = spy.mock.calls;
    spy.mockRestore();
    expect(calls.map((c) => String(c[0]).slice(0, 300))).toEqual([]);
  });
}
