import type { AddressInfo } from 'node:net';
import { afterEach, expect, test } from 'vitest';
import { WebSocketServer } from 'ws';
import type { WirefallError } from '../../src/index';
import { cleanup, client, eventually, track } from '../support/harness';

afterEach(cleanup);

/*
 * A welcome that says `resumed: true` but names another session than the hello asked to resume (a
 * broken server, or a store that mixed two sessions up). The client took it as its own session
 * resumed: it kept its inbox's position, so the other session's first messages (numbers it had
 * seen already) were acknowledged and dropped as duplicates, silently. Such a welcome is now a
 * protocol error (WF_PROTOCOL); a server that then answers honestly (a new session) delivers.
 */
test('a resume welcome naming another session is a protocol error, and no message is dropped as a duplicate', async () => {
  const wss = track(new WebSocketServer({ host: '127.0.0.1', port: 0 }));
  await new Promise((r) => wss.once('listening', r));
  const hellos: Record<string, unknown>[] = [];
  const welcome = (sid: string, resumed: boolean) => JSON.stringify({ t: 'welcome', v: 3, sid, key: 'k', hb: 5000, ack: 0, resumed, max: 65536 });
  const msg = (s: number, text: string) => JSON.stringify({ t: 'msg', s, ev: 'said', d: { from: 'srv', text } });
  wss.on('connection', (ws) => {
    ws.send(JSON.stringify({ t: 'greet', v: [3] }));
    ws.once('message', (d) => {
      hellos.push(JSON.parse(String(d)));
      const n = hellos.length;
      // 1: session s1, three messages, then the link is cut. 2: "resumed", but session s2,
      // whose first message is number 1. 3: honest: a new session.
      if (n === 1) ws.send(`[${welcome('s1', false)},${msg(1, 'a')},${msg(2, 'b')},${msg(3, 'c')}]`), setTimeout(() => ws.terminate(), 50);
      else if (n === 2) ws.send(`[${welcome('s2', true)},${msg(1, 'other session')}]`);
      else ws.send(`[${welcome('s3', false)},${msg(1, 'fresh')}]`);
    });
  });
  const { port } = wss.address() as AddressInfo;
  const c = client(`http://127.0.0.1:${port}/wirefall`, { reconnect: { base: 10, max: 10 } });
  const got: string[] = [];
  c.subscribe('said', (d) => got.push(d.text));
  const errors: WirefallError[] = [];
  c.on('error', (e) => errors.push(e));
  await eventually(() => got.includes('fresh'), 10_000, 'the new session\'s message');
  expect(hellos[1]).toMatchObject({ sid: 's1' });
  expect(errors.map((e) => e.code)).toContain('WF_PROTOCOL');
  // The third hello still names s1: the mismatched welcome was not taken as the session's.
  expect(hellos[2]).toMatchObject({ sid: 's1' });
  expect(got).toEqual(['a', 'b', 'c', 'fresh']);
});
