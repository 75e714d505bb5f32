import { afterEach, describe, expect, it } from 'vitest';
import type { WirefallError } from '../../src/index';
import { cleanup, client, eventually, startServer, track, until } from '../support/harness';

afterEach(cleanup);

/**
 * `close()` on an HTTP rung while an uplink POST waits for its retry (a 5xx or a cut on the way).
 * Before: the transport dropped the retry and numbered its bye after it, so the server held the bye
 * behind a gap that would never fill (bodyTimeoutMs + 2 s, 12 s here), then kept the session for
 * its TTL. Now: what the transport took goes first, as on WebSocket, and when it cannot (the
 * retries fail too) the bye goes unnumbered, which the server takes at once (protocol.md §2.2).
 */
describe.each(['sse', 'longpoll'] as const)('close(1000) on %s during an uplink retry', (rung) => {
  async function setup(failures: number) {
    const { server, url } = await startServer({ sessionTtlMs: 60_000 });
    track(server);
    const got: number[] = [];
    const ended: { reason: string; at: number }[] = [];
    server.on('connection', (conn) => {
      conn.subscribe('echo', ({ n }) => void got.push(n));
      conn.on('close', (reason) => void ended.push({ reason, at: Date.now() }));
    });
    let failed = 0;
    let cut: () => void = () => {};
    const cutSeen = new Promise<void>((r) => (cut = r));
    // The uplink POST carrying the echo fails `failures` times (all its tries: 5), then goes through.
    const fake: typeof fetch = (input, init) => {
      if (String(input).includes('&n=') && String(init?.body).includes('"echo"') && failed < failures) {
        failed++;
        cut();
        return Promise.reject(new TypeError('fetch failed'));
      }
      return fetch(input, init);
    };
    const c = client(url, { transports: [rung], fetch: fake, reconnect: false });
    await until(c, 'open');
    await eventually(() => [...server.connections].length === 1, 5000, 'session claimed');
    const sent = c.send('echo', { n: 1 }).then(() => 'acked', (e: WirefallError) => e.code);
    await cutSeen;
    // The retry is at least 100 ms away (a timer): the client closes while it waits.
    const t0 = Date.now();
    c.close();
    return { got, ended, t0, sent, tries: () => failed };
  }

  it('delivers the retried message, then the bye ends the session at once', async () => {
    const { got, ended, t0, sent } = await setup(1);
    await eventually(() => ended.length > 0, 8000, 'the session to end');
    expect(ended[0]!.reason).toBe('client closed');
    // Well before the gap's deadline (12 s): the bye came in order, after the retry.
    expect(ended[0]!.at - t0).toBeLessThan(8000);
    expect(got).toEqual([1]);
    // As on WebSocket, close() does not wait for the ack: the send rejects as documented.
    expect(await sent).toBe('WF_CLOSED');
  });

  it('when the retries fail too, the bye goes unnumbered and the server does not wait on the gap', async () => {
    const { got, ended, t0, tries } = await setup(99);
    await eventually(() => ended.length > 0, 9000, 'the session to end');
    expect(ended[0]!.reason).toBe('client closed');
    expect(ended[0]!.at - t0).toBeLessThan(9000);
    expect(tries()).toBeGreaterThan(1); // it did retry after close()
    expect(got).toEqual([]);
  });
});
