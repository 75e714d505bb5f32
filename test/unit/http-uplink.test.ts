import { afterEach, beforeEach, expect, test, vi } from 'vitest';
import { sseTransport } from '../../src/transports/sse';
import type { TransportFailure } from '../../src/transports/transport';
import { platformFrom } from '../../src/platform';

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

const welcome = { t: 'welcome', v: 1, sid: 's1', key: 'k1', hb: 5000, ack: 0, resumed: false, max: 1 << 20 };

/** An SSE rung on a fake fetch: the stream greets and welcomes; POSTs answer from `answers`. */
function rung(answers: number[]) {
  const posts: string[] = [];
  const closed: TransportFailure[] = [];
  const fetch = (async (url: string, init?: RequestInit) => {
    // Protocol 2: the open POSTs the hello and gets the ticket for the stream.
    if (init?.method === 'POST' && String(init.body).startsWith('{"t":"hello"')) {
      return new Response(JSON.stringify({ ticket: 'tk' }), { status: 200, headers: { 'content-type': 'application/json' } });
    }
    if (init?.method === 'POST') {
      posts.push(String(init.body));
      const status = answers.shift() ?? 204;
      return new Response(null, { status });
    }
    const body = new ReadableStream({
      start(c) {
        c.enqueue(new TextEncoder().encode(`data: {"t":"greet","v":[1]}\n\ndata: ${JSON.stringify(welcome)}\n\n`));
      },
    });
    return new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream' } });
  }) as typeof globalThis.fetch;
  const platform = platformFrom({ fetch });
  const t = sseTransport({
    rung: { name: 'sse', url: 'http://h.test/wf' },
    hello: '{"t":"hello","v":1}',
    platform,
    events: { open() {}, message() {}, close: (f) => void closed.push(f) },
  });
  return { t, posts, closed };
}

test('a POST a gateway answered 502 is sent again on the same link, and the link lives on', async () => {
  const { t, posts, closed } = rung([502, 502]);
  await vi.advanceTimersByTimeAsync(0);
  t.send('{"t":"msg","s":1,"ev":"a","d":1}');
  await vi.advanceTimersByTimeAsync(0);
  expect(posts).toHaveLength(1);
  await vi.advanceTimersByTimeAsync(100);
  expect(posts).toHaveLength(2);
  await vi.advanceTimersByTimeAsync(200);
  expect(posts).toHaveLength(3);
  expect(new Set(posts).size).toBe(1); // the same batch each time
  expect(closed).toEqual([]);
  t.send('{"t":"ack","a":1}'); // order kept: the next batch leaves after the retried one
  await vi.advanceTimersByTimeAsync(0);
  expect(posts).toHaveLength(4);
  t.close(4010);
});

test('retries that keep failing give the link up; a 4xx is an answer, not a failure on the way', async () => {
  const a = rung([502, 502, 502, 502, 502]);
  await vi.advanceTimersByTimeAsync(0);
  a.t.send('{"t":"ack","a":1}');
  await vi.advanceTimersByTimeAsync(2000);
  expect(a.posts).toHaveLength(5);
  expect(a.closed).toMatchObject([{ code: 'WF_REFUSED', status: 502 }]);

  const b = rung([404]);
  await vi.advanceTimersByTimeAsync(0);
  b.t.send('{"t":"ack","a":1}');
  await vi.advanceTimersByTimeAsync(0);
  expect(b.posts).toHaveLength(1);
  expect(b.closed).toMatchObject([{ code: 'WF_REFUSED', status: 404 }]);
});
