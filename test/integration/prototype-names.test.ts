import { afterEach, expect, test } from 'vitest';
import type { Connection } from '../../src/server/index';
import { claimed, cleanup, client, startServer, track, until } from '../support/harness';

/*
 * Message types are the app's names, and the peer's: "constructor", "toString" or "__proto__" are
 * names like any other. The emitters kept their listeners in a plain object, so subscribing to
 * one threw a TypeError (on both sides), and a client that sent one made the server's emit throw
 * ("ls is not iterable"): the server dropped that client's link as "the server failed".
 */
type Loose = { client: Record<string, number>; server: Record<string, number> };
const names = ['constructor', 'toString', '__proto__', 'hasOwnProperty'];

afterEach(cleanup);

test('each side subscribes to, sends and hears types named like Object.prototype members; no link is dropped', async () => {
  const warnings: string[] = [];
  const { server, url } = await startServer<Loose>({ logger: { warn: (m: string) => warnings.push(m) } });
  track(server);
  const atServer: string[] = [];
  server.on('connection', (conn) => {
    for (const n of names.slice(0, 3)) conn.subscribe(n, (d) => atServer.push(`${n}:${d}`));
  });
  const c = client<Loose>(url);
  const atClient: string[] = [];
  for (const n of names.slice(0, 3)) c.subscribe(n, (d) => atClient.push(`${n}:${d}`));
  const errors: string[] = [];
  c.on('error', (e) => errors.push(e.code));
  await until(c, 'open');
  const [conn] = (await claimed(server)) as Connection<Loose>[];
  for (const n of names) await c.send(n, 1);
  for (const n of names) await conn!.send(n, 2);
  expect(atServer).toEqual(['constructor:1', 'toString:1', '__proto__:1']);
  expect(atClient).toEqual(['constructor:2', 'toString:2', '__proto__:2']);
  // The one nobody subscribed to is reported as such, as any other type is.
  expect(warnings.filter((w) => w.includes('hasOwnProperty'))).toEqual(['no subscriber for "hasOwnProperty"']);
  expect(warnings.filter((w) => w.includes('failed'))).toEqual([]);
  expect(errors).toEqual([]);
  expect(c.attempts).toHaveLength(1);
});
