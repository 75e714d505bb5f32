import { afterEach, describe, expect, it } from 'vitest';
import { startBalancer } from '../../lab';
import type { RungName, WirefallError } from '../../src/index';
import { cleanup, client, eventually, startServer, track, until } from '../support/harness';

afterEach(cleanup);

type Api = { client: { up: { n: number; pad?: string } }; server: Record<string, never> };

/*
 * A rolling deploy: the node a client comes back to takes smaller messages (maxMessageBytes
 * 64 KiB, was 1 MiB). What the client queued while away includes one message over the new limit.
 * Before: the new node refused it (too_large, the link ends), the client resumed and sent it
 * again, for ever, and nothing behind it was delivered. Now it fails alone (WF_TOO_LARGE), the
 * others arrive once and in order, and the session lives on.
 */
describe.each<RungName>(['ws', 'sse', 'longpoll'])('a message over a new node\'s smaller max (%s)', (rung) => {
  it('fails alone; the rest are delivered once, in order, and the session lives', async () => {
    const a = await startServer<Api>({ maxMessageBytes: 1 << 20 });
    const b = await startServer<Api>({ maxMessageBytes: 64 * 1024 });
    track(b.server);
    let target = a.port;
    const lb = track(await startBalancer(() => [target]));
    const got: number[] = [];
    let links = 0;
    b.server.on('connection', (conn) => {
      conn.subscribe('up', ({ n }) => void got.push(n));
      conn.on('link', () => void links++);
    });
    const c = client<Api>(lb.url, { transports: [rung], reconnect: { base: 50, max: 200 } });
    await until(c, 'open');
    const results: Promise<string>[] = [];
    const settle = (p: Promise<void>) => results.push(p.then(() => 'acked', (e: WirefallError) => e.code));
    // Queued while away, before the new node's welcome (a tick apart: one promise each).
    c.on('state', (s) => {
      if (s !== 'reconnecting' || results.length) return;
      settle(c.send('up', { n: 1 }));
      queueMicrotask(() => {
        settle(c.send('up', { n: 2, pad: 'x'.repeat(100_000) }));
        queueMicrotask(() => settle(c.send('up', { n: 3 })));
      });
    });
    target = b.port;
    await a.server.close();
    await eventually(() => results.length === 3, 10_000, 'the sends queued while away');
    expect(await Promise.all(results)).toEqual(['acked', 'WF_TOO_LARGE', 'acked']);
    expect(got).toEqual([1, 3]);
    // One link on the new node: the session was not refused and resumed over and over.
    expect(c.state).toBe('open');
    expect([...b.server.connections]).toHaveLength(1);
    const before = links;
    await c.send('up', { n: 4 });
    expect(got).toEqual([1, 3, 4]);
    expect(links).toBe(before);
  });
});
