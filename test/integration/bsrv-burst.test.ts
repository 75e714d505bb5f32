/**
 * A burst the app sends in one tick, larger than `maxBufferedBytes`, reaches a client that reads,
 * on every rung, without a cut. The server wrote it into the socket at once: past the bound a
 * healthy client was closed as a slow reader (4507), and on SSE the resume's replay was written
 * at once again and cut again, for ever: the client never got a message. Messages now wait in the
 * session's replay until the link drains (docs/security.md, `maxBufferedBytes`).
 */
import { afterEach, expect, it } from 'vitest';
import type { RungName } from '../../src/protocol/api';
import { recorder } from '../support/bystander';
import { cleanup, client, eventually, startServer, track, until } from '../support/harness';

afterEach(cleanup);

/** Well past what loopback's kernel buffers take (a few MB), so most of it waits in the process. */
const COUNT = 6000;
const TEXT = 'x'.repeat(1000);

for (const rung of ['ws', 'sse', 'longpoll'] as RungName[]) {
  it(`${rung}: 6 MB sent in one tick with maxBufferedBytes 1 MiB arrives whole, in order, on the first link`, async () => {
    const rec = recorder();
    const { server, url } = await startServer({ logger: rec.logger, maxBufferedBytes: 1024 * 1024, replay: { maxBytes: 16 * 1024 * 1024 } });
    track(server);
    server.on('connection', (conn) => {
      for (let i = 0; i < COUNT; i++) void conn.send('said', { from: String(i), text: TEXT }).catch(() => {});
    });
    const c = client(url, { transports: [rung] });
    const got: number[] = [];
    c.subscribe('said', (d) => void got.push(Number(d.from)));
    const states: string[] = [];
    c.on('state', (s) => void states.push(s));
    await until(c, 'open');
    await eventually(() => got.length >= COUNT || states.includes('reconnecting'), 20_000, 'the burst');
    expect(states).toEqual(['open']);
    expect(got).toEqual(Array.from({ length: COUNT }, (_, i) => i));
    expect(rec.lines.filter((l) => /slow reader/.test(l.message))).toEqual([]);
    // Everything was acknowledged: the replay is empty again.
    await eventually(() => [...server.connections][0]?.buffered.messages === 0, 5000, 'the acks');
  }, 30_000);
}
