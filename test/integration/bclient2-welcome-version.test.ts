import type { AddressInfo } from 'node:net';
import { afterEach, expect, test } from 'vitest';
import { WebSocketServer } from 'ws';
import { PROTOCOL_VERSION } from '../../src/index';
import { cleanup, client, eventually, track, until } from '../support/harness';

afterEach(cleanup);

/*
 * The welcome echoes the version the hello chose (docs/protocol.md §3), and a client offers only
 * its own. A welcome with another `v` (a broken server, or one that speaks something else under
 * our frames) was taken as a session: the client spoke a protocol the server had not agreed to.
 * Now it fails the attempt as WF_PROTOCOL, as a malformed welcome does, and takes no session from
 * it: the next hello opens a new one.
 */
test('a welcome whose version the hello did not offer fails the attempt (WF_PROTOCOL); an honest one then opens', async () => {
  const wss = track(new WebSocketServer({ host: '127.0.0.1', port: 0 }));
  await new Promise((r) => wss.once('listening', r));
  const hellos: Record<string, unknown>[] = [];
  wss.on('connection', (ws) => {
    ws.send(JSON.stringify({ t: 'greet', v: [4, 3] }));
    ws.once('message', (d) => {
      hellos.push(JSON.parse(String(d)));
      // 1: version 4, never offered; 2: version 2, never offered either; 3: the hello's own.
      const v = [4, 2, PROTOCOL_VERSION][hellos.length - 1] ?? PROTOCOL_VERSION;
      ws.send(JSON.stringify({ t: 'welcome', v, sid: `s${hellos.length}`, key: 'k', hb: 5000, ack: 0, resumed: false, max: 65536 }));
    });
  });
  const { port } = wss.address() as AddressInfo;
  const c = client(`http://127.0.0.1:${port}/wirefall`, { reconnect: { base: 10, max: 10 } });
  await until(c, 'open', 10_000);
  await eventually(() => hellos.length >= 3, 5000, 'three hellos');
  expect(hellos.map((h) => h.v)).toEqual([PROTOCOL_VERSION, PROTOCOL_VERSION, PROTOCOL_VERSION]);
  expect(c.attempts.map((a) => [a.outcome, a.reason])).toEqual([
    ['failed', 'WF_PROTOCOL'],
    ['failed', 'WF_PROTOCOL'],
    ['verified', undefined],
  ]);
  // No session was taken from the refused welcomes: the hellos after them resume nothing.
  expect(hellos[1]!.sid).toBeUndefined();
  expect(hellos[2]!.sid).toBeUndefined();
});
