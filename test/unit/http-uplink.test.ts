import { afterEach, beforeEach, expect, test, vi } from 'vitest';
import { sseTransport } from '../../src/transports/sse';
import type { TransportFailure } from '../../src/transports/transport';
import { platformFrom } from '../../src/platform';

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

const welcome = { t: 'welcome', v: 3, sid: 's1', key: 'k1', hb: 5000, ack: 0, resumed: false, max: 1 << 20 };

/**
 * An SSE rung on a fake fetch: the open POST's answer is the stream, which greets and welcomes;
 * uplink POSTs answer from `answers` (a status, or a promise of one to hold a POST in flight).
 */
function rung(answers: (number | Promise<number>)[]) {
  const posts: string[] = [];
  const urls: string[] = [];
  const closed: TransportFailure[] = [];
  const fetch = (async (url: string, init?: RequestInit) => {
    if (init?.method === 'POST' && !String(init.body).startsWith('{"t":"hello"')) {
      posts.push(String(init.body));
      urls.push(url);
      const status = await (answers.shift() ?? 204);
      return new Response(null, { status });
    }
    // Protocol 3: the open POSTs the hello, and its answer is the stream.
    expect(init?.method).toBe('POST');
    const body = new ReadableStream({
      start(c) {
        c.enqueue(new TextEncoder().encode(`data: {"t":"greet","v":[3]}\n\ndata: ${JSON.stringify(welcome)}\n\n`));
      },
    });
    return new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream' } });
  }) as typeof globalThis.fetch;
  const platform = platformFrom({ fetch });
  const t = sseTransport({
    rung: { name: 'sse', url: 'http://h.test/wf' },
    hello: '{"t":"hello","v":3}',
    platform,
    events: { open() {}, message() {}, close: (f) => void closed.push(f) },
  });
  const numbers = () => urls.map((u) => Number(new URL(u).searchParams.get('n')));
  const ids = () => new Set(urls.map((u) => new URL(u).searchParams.get('u')));
  return { t, posts, closed, numbers, ids };
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
  t.send('{"t":"ack","a":1}'); // the next batch leaves beside the retried one: the server orders them
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

/** A message big enough (≥ 16 Ki units) that a second POST goes beside one in flight. */
const big = (s: number) => `{"t":"msg","s":${s},"ev":"a","d":"${'x'.repeat(20_000)}"}`;

test('up to four numbered POSTs are in flight at once for a backlog; a fifth batch waits for a slot', async () => {
  const gates: ((s: number) => void)[] = [];
  const held = () => new Promise<number>((r) => gates.push(r));
  const { t, posts, closed, numbers, ids } = rung([held(), held(), held(), held(), held()]);
  await vi.advanceTimersByTimeAsync(0);
  for (let i = 1; i <= 5; i++) {
    t.send(big(i));
    await vi.advanceTimersByTimeAsync(0);
  }
  expect(posts).toHaveLength(4);
  expect(numbers()).toEqual([1, 2, 3, 4]);
  expect(ids().size).toBe(1); // one uplink id per transport
  t.send('{"t":"msg","s":6,"ev":"a","d":6}'); // joins the fifth batch while it waits
  await vi.advanceTimersByTimeAsync(0);
  gates[2]!(204); // any answer frees a slot: the server answers in order, the client need not
  await vi.advanceTimersByTimeAsync(0);
  expect(posts).toHaveLength(5);
  expect(numbers()[4]).toBe(5);
  expect(posts[4]).toContain('"s":5');
  expect(posts[4]).toContain('"s":6');
  for (const g of gates) g(204);
  await vi.advanceTimersByTimeAsync(0);
  expect(closed).toEqual([]);
  t.close(4010);
});

test('a retried POST keeps its number, and the POSTs after it do not wait for it', async () => {
  const { t, posts, closed, numbers } = rung([502, 204, 204]);
  await vi.advanceTimersByTimeAsync(0);
  t.send(big(1));
  await vi.advanceTimersByTimeAsync(0);
  t.send(big(2));
  await vi.advanceTimersByTimeAsync(0);
  expect(numbers()).toEqual([1, 2]);
  await vi.advanceTimersByTimeAsync(100);
  expect(numbers()).toEqual([1, 2, 1]);
  expect(posts[2]).toBe(posts[0]);
  expect(closed).toEqual([]);
  t.close(4010);
});

test('small sends wait for the POST in flight and leave together: a conversation costs no extra requests', async () => {
  let open!: (s: number) => void;
  const { t, posts, numbers } = rung([new Promise<number>((r) => (open = r))]);
  await vi.advanceTimersByTimeAsync(0);
  t.send('{"t":"msg","s":1,"ev":"a","d":1}');
  await vi.advanceTimersByTimeAsync(0);
  t.send('{"t":"msg","s":2,"ev":"a","d":2}');
  t.send('{"t":"ack","a":3}');
  await vi.advanceTimersByTimeAsync(0);
  expect(posts).toHaveLength(1);
  open(204);
  await vi.advanceTimersByTimeAsync(0);
  expect(numbers()).toEqual([1, 2]);
  expect(posts[1]).toBe('k1\n[{"t":"msg","s":2,"ev":"a","d":2},{"t":"ack","a":3}]');
  t.close(4010);
});

test('the slices of a burst handed over in one tick leave together, as large POSTs (fetch writes nothing before the tick ends anyway)', async () => {
  const gates: ((s: number) => void)[] = [];
  const held = () => new Promise<number>((r) => gates.push(r));
  const { t, posts, numbers } = rung([held(), held()]);
  await vi.advanceTimersByTimeAsync(0);
  // 14 slices of ~20 Ki units; a POST takes up to a quarter of the server's 1 MiB bound (13 of them).
  for (let i = 1; i <= 14; i++) t.send(big(i));
  expect(posts).toHaveLength(0);
  await vi.advanceTimersByTimeAsync(0);
  expect(numbers()).toEqual([1, 2]);
  expect(posts.map((b) => (b.match(/"t":"msg"/g) ?? []).length)).toEqual([13, 1]);
  for (const g of gates) g(204);
  await vi.advanceTimersByTimeAsync(0);
  t.close(4010);
});
