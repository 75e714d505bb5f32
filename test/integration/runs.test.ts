/**
 * `run` frames (docs/protocol.md §1.4) against the real server on 127.0.0.1, on both HTTP rungs:
 * a burst goes up as runs and arrives exactly once, in order; a server whose welcome does not say
 * `run` (an older one) gets msg frames only.
 */
import { afterEach, describe, expect, test } from 'vitest';
import type { AnyApi } from '../../src/protocol/api';
import { cleanup, client, eventually, startServer, track, until } from '../support/harness';

afterEach(cleanup);

/**
 * `fetch` recording the frame types of every uplink POST body; with `old`, the welcome loses its
 * `run` on the way, as from a server that predates runs.
 */
function recording(old: boolean) {
  const types = new Set<string>();
  const fetch = (async (url: string, init?: RequestInit) => {
    const q = new URL(url).searchParams;
    if (q.has('n') && typeof init?.body === 'string') {
      const text = init.body.slice(init.body.indexOf('\n') + 1);
      for (const f of [JSON.parse(text) as { t: string }].flat()) types.add(f.t);
    }
    const res = await globalThis.fetch(url, init);
    if (!old || q.has('sid')) return res;
    // The open: its answer is the first poll's (long-polling) or the event stream (SSE).
    if (!res.headers.get('content-type')?.startsWith('text/event-stream')) {
      return new Response((await res.text()).replace(',"run":1', ''), { status: res.status, headers: res.headers });
    }
    const body = res.body!.pipeThrough(new TextDecoderStream()).pipeThrough(
      new TransformStream<string, string>({ transform: (chunk, c) => c.enqueue(chunk.replace(',"run":1', '')) }),
    );
    return new Response(body.pipeThrough(new TextEncoderStream()), { status: res.status, headers: res.headers });
  }) as typeof globalThis.fetch;
  return { fetch, types };
}

describe.each(['sse', 'longpoll'] as const)('%s', (rung) => {
  test.each([false, true])('a burst of 3,000 arrives once and in order (older server: %s)', async (old) => {
    const { server, url } = await startServer<AnyApi>();
    track(server);
    const got: number[] = [];
    server.on('connection', (conn) => conn.subscribe('n', (d) => void got.push(d as number)));
    const rec = recording(old);
    const c = client<AnyApi>(url, { transports: [rung], fetch: rec.fetch });
    await until(c, 'open');
    const sends: Promise<void>[] = [];
    for (let i = 0; i < 3000; i++) sends.push(c.send('n', i));
    sends.push(c.send('other', 1)); // a type change ends a run
    await Promise.all(sends); // every one acknowledged
    await eventually(() => got.length === 3000, 5000, '3,000 messages');
    expect(got).toEqual(Array.from({ length: 3000 }, (_, i) => i));
    expect(rec.types.has('run')).toBe(!old);
    expect(rec.types.has('msg')).toBe(true);
  });
});
