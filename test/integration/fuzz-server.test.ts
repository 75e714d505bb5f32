import { afterEach, expect, test } from 'vitest';
import WebSocket from 'ws';
import { seeded } from '../../lab/random';
import { cleanup, client, eventually, startServer, track, until } from '../support/harness';

afterEach(cleanup);

const junk = ['{', '}', '[', ']', '"', ':', ',', 't', 'msg', 'hello', 'ack', '1', '-1', 'null', '__proto__', '\u0000', '😀', ' '];

function garbage(rnd: () => number): string {
  const base = ['{"t":"msg","s":1,"ev":"echo","d":{"n":1}}', '{"t":"ack","a":1}', '[{"t":"ping"}]', '{"t":"bye","code":1000}'][Math.floor(rnd() * 4)]!;
  const chars = [...base];
  for (let i = 0, n = 1 + Math.floor(rnd() * 5); i < n; i++) chars.splice(Math.floor(rnd() * chars.length), rnd() < 0.5 ? 1 : 0, junk[Math.floor(rnd() * junk.length)]!);
  return chars.join('');
}

test('seeded garbage on every rung never crashes the server nor disturbs another session', async () => {
  const { server, url } = await startServer();
  track(server);
  server.on('connection', (conn) => conn.subscribe('echo', (d) => void conn.send('echoed', d)));
  const bystander = client(url);
  const echoed: number[] = [];
  bystander.subscribe('echoed', (d) => echoed.push(d.n));
  await until(bystander, 'open');
  const rnd = seeded(7);

  // WebSocket: hello, then garbage, on 60 connections.
  await Promise.all(
    Array.from({ length: 60 }, async () => {
      const ws = track(new WebSocket(url.replace('http', 'ws')));
      ws.on('error', () => {});
      await new Promise((r) => ws.once('open', r));
      ws.send('{"t":"hello","v":1}');
      for (let i = 0; i < 5; i++) ws.send(garbage(rnd));
      // Most garbage gets the connection closed; what happened to be valid may leave it open.
      await new Promise((r) => {
        const t = setTimeout(() => (ws.close(), r(null)), 300);
        ws.once('close', () => (clearTimeout(t), r(null)));
      });
    }),
  );

  // HTTP rungs: a real long-poll session, then garbage POSTs and malformed queries.
  const open = (await (await fetch(`${url}?t=lp&hello=${encodeURIComponent('{"t":"hello","v":1}')}`)).json()) as { sid?: string; key?: string }[];
  const { sid, key } = open.find((f) => f.sid)!;
  const statuses = new Set<number>();
  for (let i = 0; i < 150; i++) {
    const r = await fetch(`${url}?t=lp&sid=${sid}`, { method: 'POST', body: `${key}\n${garbage(rnd)}` });
    statuses.add(r.status);
    await r.arrayBuffer();
  }
  for (const q of ['', '?t=', '?t=lp', '?t=sse&hello=%7B', '?t=lp&sid=x&key=y', '?t=sse&hello=' + encodeURIComponent('{"t":"welcome"}')]) {
    const r = await fetch(url + q);
    statuses.add(r.status);
    await r.arrayBuffer();
  }
  // Refused with 4xx, never a 5xx, and the bystander never noticed.
  expect([...statuses].every((s) => s < 500)).toBe(true);
  for (let n = 0; n < 20; n++) void bystander.send('echo', { n });
  await eventually(() => echoed.length === 20, 5000, 'bystander echoes');
  expect(echoed).toEqual(Array.from({ length: 20 }, (_, n) => n));
  expect(bystander.attempts.filter((a) => a.outcome === 'verified')).toHaveLength(1);
});
