import type { ServerResponse } from 'node:http';
import { afterEach, expect, test } from 'vitest';
import type { WirefallError } from '../../src/index';
import { cleanup, client, eventually } from '../support/harness';
import { fakeHttp, hi, sse } from '../support/bclient-http';

afterEach(cleanup);

/*
 * Our server answers an uplink POST with a 204. A server or middlebox that answers it with a body
 * (a 200 with an HTML page, 1 MiB here) had the client leave the body unread: in Node the
 * connection cannot be reused until its body is read, so each POST opened another one and every
 * earlier one stayed open, its answer unread, until garbage collection (31 open sockets after 30
 * POSTs, here). The body is now cancelled once the answer's status is known.
 */
test('uplink POSTs answered 200 with a large body leave no connection open behind them', async () => {
  let stream: ServerResponse | undefined;
  let opened = 0;
  let closed = 0;
  const big = `<html>${'g'.repeat(1 << 20)}</html>`;
  const s = await fakeHttp(({ kind, res, body, req }) => {
    const socket = req.socket as typeof req.socket & { seen?: boolean };
    if (!socket.seen) (socket.seen = true), opened++, socket.on('close', () => closed++);
    if (kind === 'open') return void (stream = res).writeHead(200, { 'content-type': 'text/event-stream' }).write(sse(hi()));
    // Acknowledge the messages on the stream, as a server does; answer the POST with a page.
    const frames = [JSON.parse(body.slice(body.indexOf('\n') + 1))].flat() as { t: string; s?: number }[];
    const last = frames.filter((f) => f.t === 'msg').at(-1)?.s;
    if (last) stream!.write(sse({ t: 'ack', a: last }));
    res.writeHead(200, { 'content-type': 'text/html' }).end(big);
  });
  const c = client(s.url, { transports: ['sse'] });
  const errors: WirefallError[] = [];
  c.on('error', (e) => errors.push(e));
  for (let i = 0; i < 30; i++) await c.send('say', { text: String(i) });
  expect(s.counts.up).toBeGreaterThanOrEqual(30);
  // The event stream's connection, and at most a few whose cancel is still on its way.
  await eventually(() => opened - closed <= 3, 5000, `open connections to fall to 3 (${opened - closed})`);
  expect(errors).toEqual([]);
});
