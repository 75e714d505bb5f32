import { afterEach, expect, test } from 'vitest';
import type { WirefallError } from '../../src/index';
import type { Connection } from '../../src/server/index';
import { claimed, cleanup, client, startServer, track, until } from '../support/harness';

/*
 * A message type (or request name) is at most 256 characters on the wire (docs/protocol.md §1):
 * each side's decoder refuses a longer one as a malformed frame and drops the link. Accepted by
 * `send`, such a message broke the link on every resend (about a hundred reconnects a second,
 * here), and every message behind it waited for ever. It must be refused by `send` instead.
 */
type Loose = { client: Record<string, { text: string }>; server: Record<string, { text: string }>; rpc: Record<string, [number, number]> };

afterEach(cleanup);

const long = 'x'.repeat(257);

test('client → server: send and request refuse a type over 256 characters; the link stays, the next message arrives', async () => {
  const { server, url } = await startServer<Loose>();
  track(server);
  const got: string[] = [];
  server.on('connection', (conn) => conn.subscribe('say', (d) => got.push(d.text)));
  const c = client<Loose>(url);
  const errors: string[] = [];
  c.on('error', (e) => errors.push(e.code));
  await until(c, 'open');
  await expect(c.send(long, { text: 'long' })).rejects.toMatchObject({ code: 'WF_INVALID' });
  await expect(c.request(long, 1)).rejects.toMatchObject({ code: 'WF_INVALID' });
  await c.send('x'.repeat(256), { text: '256 is fine' });
  await c.send('say', { text: 'after' });
  expect(got).toEqual(['after']);
  expect(errors).toEqual([]);
  expect(c.attempts).toHaveLength(1);
});

test('server → client: conn.send refuses a type over 256 characters; the link stays, the next message arrives', async () => {
  const { server, url } = await startServer<Loose>();
  track(server);
  const c = client<Loose>(url);
  const got: string[] = [];
  c.subscribe('said', (d) => got.push(d.text));
  const errors: string[] = [];
  c.on('error', (e) => errors.push(e.code));
  await until(c, 'open');
  const [conn] = (await claimed(server)) as Connection<Loose>[];
  const refused = await conn!.send(long, { text: 'long' }).catch((e: WirefallError) => e.code);
  expect(refused).toBe('WF_INVALID');
  await conn!.send('said', { text: 'after' });
  expect(got).toEqual(['after']);
  expect(errors).toEqual([]);
  expect(c.attempts).toHaveLength(1);
});
