/**
 * Soak: a session outlives its links (a client away within its TTL resumes on a new one). What
 * the session keeps of a link that ended must not keep the link: its socket and closures would
 * stay for as long as the session waits, one per session whose client went away.
 */
import { afterEach, expect, it } from 'vitest';
import type { Duplex } from 'node:stream';
import { claimed, cleanup, eventually, startServer, track } from '../support/harness';
import { raw } from '../support/raw';
import { alive, collected } from '../support/gc';

afterEach(cleanup);

it('a link that reported its attempts and ended is collected while its session waits; the report stays', async () => {
  const { server, url } = await startServer({ sessionTtlMs: 60_000 });
  track(server);
  let socket: WeakRef<Duplex> | undefined;
  server.httpServer.on('upgrade', (_req, s: Duplex) => void (socket = new WeakRef(s)));
  const c = await raw(url);
  c.ws.send(JSON.stringify({ t: 'hello', v: 3 }));
  await eventually(() => c.frames.some((f) => f.t === 'welcome'), 10_000, 'the welcome');
  c.ws.send(JSON.stringify({ t: 'report', a: [['ws', 'verified', 12]] }));
  const [conn] = await claimed(server, 1, 10_000);
  await eventually(() => conn!.attempts.length === 1, 10_000, 'the report');
  // Gone without a goodbye: the session waits for its client to resume.
  c.ws.terminate();
  await eventually(() => conn!.rung === null, 10_000, 'the link to end');
  const refs = [socket!];
  // Before: the session's reports kept the link, and through it the socket (1 of 1 alive).
  if (!(await collected(refs))) expect(alive(refs)).toBe(0);
  expect(conn!.closed).toBe(false);
  expect(conn!.attempts).toEqual([{ rung: 'ws', outcome: 'verified', ms: 12 }]);
});
