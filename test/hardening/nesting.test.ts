/**
 * Data nested deeper than the server's stack can walk is the client's bad input, not the server's
 * failure: a message that fills the transport bound (more than `maxMessageBytes`, so its data is
 * measured on its own) with half a million nested arrays made measuring it throw a RangeError,
 * answered as `server_error` (4500, 500) and logged as a server bug.
 */
import { afterEach, expect, it } from 'vitest';
import { bystander, serve } from '../support/bystander';
import { guardProcess } from '../support/guard';
import { cleanup, eventually } from '../support/harness';
import { raw } from '../support/raw';

guardProcess();
afterEach(cleanup);

const deep = (n: number) => JSON.stringify({ t: 'msg', s: 1, ev: 'say', d: 0 }).replace('0', '['.repeat(n) + ']'.repeat(n));

it('a message too deep to measure is a protocol_error (4000) on WebSocket and a 400 on the HTTP rungs', async () => {
  const { server, url, lines } = await serve({ maxMessageBytes: 64 * 1024 });
  const by = await bystander(server, url);
  const r = await raw(url);
  r.ws.send('{"t":"hello","v":1}');
  await eventually(() => r.frames.some((f) => f.t === 'welcome'), 5000, 'the welcome');
  r.ws.send(deep(60_000)); // 120 KB: over the 64 KiB message bound, within the transport bound
  await eventually(() => !!r.closed(), 5000, 'the close');
  expect(r.closed()!.code).toBe(4000);
  expect(r.frames.find((f) => f.t === 'error')).toMatchObject({ code: 'protocol_error' });

  const open = (await (await fetch(`${url}?t=lp&hello=${encodeURIComponent('{"t":"hello","v":1}')}`)).json()) as { t: string; sid?: string; key?: string }[];
  const { sid, key } = open.find((f) => f.t === 'welcome') as { sid: string; key: string };
  const post = await fetch(`${url}?t=lp&sid=${sid}`, { method: 'POST', body: `${key}\n${deep(60_000)}` });
  expect(post.status).toBe(400);
  expect(await post.json()).toMatchObject({ code: 'protocol_error' });
  expect(lines.filter((l) => /server failed|uplink failed/.test(l.message))).toEqual([]);
  await by.check();
});
