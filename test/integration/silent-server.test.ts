import type { AddressInfo } from 'node:net';
import { afterEach, expect, test } from 'vitest';
import { WebSocketServer } from 'ws';
import type { WirefallError } from '../../src/index';
import { encodeFrame } from '../../src/server/codec';
import { cleanup, client, eventually, track } from '../support/harness';

afterEach(cleanup);

/**
 * A raw `ws` server that greets, welcomes the hello, then says nothing ever again, and never
 * closes: a connection that died silently on the way (defect 2 of issue 11).
 */
async function silentServer() {
  const wss = track(new WebSocketServer({ host: '127.0.0.1', port: 0 }));
  await new Promise((r) => wss.once('listening', r));
  let connections = 0;
  wss.on('connection', (ws) => {
    connections++;
    ws.send(encodeFrame.greet());
    ws.once('message', () => ws.send(encodeFrame.welcome({ v: 3, sid: `s${connections}`, key: 'k', hb: 200, ack: 0, resumed: false, max: 65536 })));
  });
  const { port } = wss.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/wirefall`, connections: () => connections };
}

test('a state listener that throws on open does not blind the client: the silent link is found and left', async () => {
  const server = await silentServer();
  const c = client(server.url, { answerDeadline: 300, reconnect: { base: 10, max: 10 }, rememberRungMs: 0 });
  const errors: WirefallError[] = [];
  c.on('error', (e) => errors.push(e));
  c.on('state', (s) => {
    if (s === 'open') throw new Error('app bug');
  });
  // Heartbeat 200 ms (the client paces itself from 1 s), answer deadline 300 ms: the stall is due
  // ~1.3 s after the open; 5 s is generous.
  await eventually(() => errors.some((e) => e.code === 'WF_STALLED'), 5000, 'the stall of the silent link');
  await eventually(() => server.connections() >= 2, 5000, 'a reconnect');
  expect(errors.find((e) => e.code === 'WF_INVALID')?.message).toBe('a "state" listener threw');
});
