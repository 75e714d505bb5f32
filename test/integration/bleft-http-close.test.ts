import { afterEach, describe, expect, it } from 'vitest';
import type { WirefallError } from '../../src/index';
import { cleanup, client, eventually, startServer, track, until } from '../support/harness';

afterEach(cleanup);

/**
 * The server's side, by hand (a client of an earlier version drops a POST waiting for its retry
 * and numbers its bye after it): a bye held behind a gap waits BYE_GRACE_MS (2 s), not the gap's
 * deadline (bodyTimeoutMs + 2 s, 12 s here), then ends the session as it says; what it held is
 * answered 409. Before: the link ended with a protocol error at 12 s, the session lived on (TTL).
 */
describe.each(['sse', 'lp'] as const)('a bye held behind a gap (%s, by hand)', (t) => {
  it('ends the session within the bye grace', async () => {
    const { server, url } = await startServer({ sessionTtlMs: 60_000 });
    track(server);
    const ended: { reason: string; at: number }[] = [];
    const got: number[] = [];
    server.on('connection', (conn) => {
      conn.subscribe('echo', ({ n }) => void got.push(n));
      conn.on('close', (reason) => void ended.push({ reason, at: Date.now() }));
    });
    const ac = new AbortController();
    const open = await fetch(`${url}?t=${t}&u=up1`, { method: 'POST', body: '{"t":"hello","v":3}', signal: ac.signal, headers: t === 'sse' ? { Accept: 'text/event-stream' } : {} });
    let text = '';
    if (t === 'sse') {
      const reader = open.body!.getReader();
      const dec = new TextDecoder();
      void (async () => {
        try {
          for (let r; !(r = await reader.read()).done; ) text += dec.decode(r.value);
        } catch {
          /* aborted at the end */
        }
      })();
      await eventually(() => text.includes('"welcome"'), 5000, 'welcome');
    } else text = await open.text();
    // SSE: one frame per `data:` line; long-polling: one JSON array.
    const frames = (t === 'sse' ? text.split('\n').filter((l) => l.startsWith('data: ')).map((l) => JSON.parse(l.slice(6)) as unknown) : (JSON.parse(text) as unknown[])).flat();
    const { sid, key } = frames.find((f) => (f as { t: string }).t === 'welcome') as { sid: string; key: string };
    const post = (n: number, body: string) => fetch(`${url}?t=${t}&sid=${sid}&u=up1&n=${n}`, { method: 'POST', body: `${key}\n${body}` });
    expect((await post(1, '{"t":"msg","s":1,"ev":"echo","d":{"n":1}}')).status).toBe(204);
    const t0 = Date.now();
    // POST 2 (message 2) never comes; the bye is number 3, after a message long enough that the
    // server finds the bye only where it looks for it, at the body's end (src/server/http-uplink.ts).
    const bye = await post(3, `[{"t":"msg","s":3,"ev":"echo","d":{"n":3,"pad":"${'x'.repeat(8000)}"}},{"t":"bye","code":1000}]`);
    expect(bye.status).toBe(409);
    await eventually(() => ended.length > 0, 8000, 'the session to end');
    expect(ended[0]!.reason).toBe('client closed');
    expect(ended[0]!.at - t0).toBeLessThan(8000);
    expect(ended[0]!.at - t0).toBeGreaterThanOrEqual(1900); // it did wait for the gap to fill
    expect(got).toEqual([1]);
    ac.abort();
  });
});

/**
 * `close()` on an HTTP rung while an uplink POST waits for its retry (a 5xx or a cut on the way).
 * Before: the transport dropped the retry and numbered its bye after it, so the server held the bye
 * behind a gap that would never fill (bodyTimeoutMs + 2 s, 12 s here), then kept the session for
 * its TTL. Now: what the transport took goes first, as on WebSocket; when it cannot (the retries
 * fail too) the server ends the session once the held bye's grace passed (protocol.md §2.2).
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

  it('when the retries fail too, the server ends the session after the bye\'s grace, not the gap\'s deadline', async () => {
    const { got, ended, t0, tries } = await setup(99);
    await eventually(() => ended.length > 0, 9000, 'the session to end');
    expect(ended[0]!.reason).toBe('client closed');
    expect(ended[0]!.at - t0).toBeLessThan(9000);
    expect(tries()).toBeGreaterThan(1); // it did retry after close()
    expect(got).toEqual([]);
  });
});
