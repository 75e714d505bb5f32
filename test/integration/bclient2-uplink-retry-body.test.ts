import type { ServerResponse } from 'node:http';
import { afterEach, expect, test } from 'vitest';
import type { WirefallError } from '../../src/index';
import { cleanup, client, eventually } from '../support/harness';
import { fakeHttp, hi, sse } from '../support/bclient-http';

afterEach(cleanup);

/*
 * bclient cancelled the body of an uplink POST's 2xx answer (in Node a connection whose answer
 * is not read cannot be reused, and stays open until garbage collection). A gateway's 5xx answer
 * (a 502 page) was still left unread before the POST's retry: each one held its connection. Every
 * answer's body is now cancelled once its status is known.
 */
test('uplink POSTs answered 502 with a large page, then retried, leave no connection open behind them', async () => {
  let stream: ServerResponse | undefined;
  let opened = 0;
  let closed = 0;
  const page = `<html>${'g'.repeat(1 << 20)}</html>`;
  const tried = new Set<string>();
  const s = await fakeHttp(({ kind, res, body, req }) => {
    const socket = req.socket as typeof req.socket & { seen?: boolean };
    if (!socket.seen) (socket.seen = true), opened++, socket.on('close', () => closed++);
    if (kind === 'open') return void (stream = res).writeHead(200, { 'content-type': 'text/event-stream' }).write(sse(hi()));
    // The gateway fails each POST once, with its page; the retry (same `n`) gets through.
    const n = new URL(req.url!, 'http://x').searchParams.get('n')!;
    if (!tried.has(n)) return tried.add(n), void res.writeHead(502, { 'content-type': 'text/html' }).end(page);
    const frames = [JSON.parse(body.slice(body.indexOf('\n') + 1))].flat() as { t: string; s?: number }[];
    const last = frames.filter((f) => f.t === 'msg').at(-1)?.s;
    if (last) stream!.write(sse({ t: 'ack', a: last }));
    res.writeHead(204).end();
  });
  const c = client(s.url, { transports: ['sse'] });
  const errors: WirefallError[] = [];
  c.on('error', (e) => errors.push(e));
  for (let i = 0; i < 20; i++) await c.send('say', { text: String(i) });
  expect(s.counts.up).toBeGreaterThanOrEqual(40);
  // The event stream's connection, and at most a few whose cancel is still on its way.
  await eventually(() => opened - closed <= 3, 5000, `open connections to fall to 3 (${opened - closed})`);
  expect(errors).toEqual([]);
});
