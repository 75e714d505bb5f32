/**
 * Property-based fuzzing (fast-check) of every endpoint of a live server: whatever a client sends,
 * on any rung, the server stays up, every answer is a documented status or close code with a
 * documented error code, and a bystander session receives everything once and in order.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import WebSocket from 'ws';
import { decodeBinary } from '../../src/protocol/binary';
import { CloseCode } from '../../src/protocol/close-codes';
import { WIRE_ERROR_CODES } from '../../src/protocol/wire-errors';
import { bystander } from '../support/bystander';
import { guardProcess } from '../support/guard';
import { cleanup, eventually, startServer, track, type WirefallServer, type Chat } from '../support/harness';

guardProcess();

const STATUSES = new Set([200, 204, 400, 403, 404, 405, 408, 413, 426, 429]);
// 1005: closed without a code (the client side saw no close frame's code); 1006: cut.
const CLOSES = new Set<number>([...Object.values(CloseCode), 1005, 1006]);
const CODES = new Set<string>(WIRE_ERROR_CODES);
const SERVER_FRAMES = new Set(['greet', 'welcome', 'ping', 'pong', 'msg', 'ack', 'error', 'bye']);

let server: WirefallServer<Chat>;
let url: string;
let by: Awaited<ReturnType<typeof bystander>>;
let session: { sid: string; key: string };

beforeAll(async () => {
  // A predicate as apps write them: `new URL` throws on `Origin: null` (sandboxed iframes).
  ({ server, url } = await startServer({ allowedOrigins: (o) => new URL(o).host === 'app.example', helloTimeoutMs: 2000 }));
  track(server);
  by = await bystander(server, url);
  const open = (await (await fetch(`${url}?t=lp&hello=${encodeURIComponent('{"t":"hello","v":1}')}`)).json()) as { t: string; sid: string; key: string }[];
  session = open.find((f) => f.t === 'welcome')!;
});
afterAll(cleanup);

const frameish = fc.oneof(
  fc.constantFrom(
    '{"t":"hello","v":1}',
    '{"t":"hello","v":2}',
    '{"t":"msg","s":1,"ev":"echo","d":{"n":1}}',
    '{"t":"ack","a":0}',
    '{"t":"ack","a":99}',
    '{"t":"ping"}',
    '{"t":"bye","code":1000}',
    '{"t":"welcome"}',
  ),
  fc.record({ t: fc.oneof(fc.constantFrom('hello', 'msg', 'ack', 'ping', 'bye', 'greet', 'x'), fc.string({ unit: 'grapheme', maxLength: 60 }), fc.string({ unit: fc.constantFrom('漢', 'я', '😀', 'a', '"'), maxLength: 80 })), v: fc.nat(3), s: fc.integer(), ev: fc.string(), a: fc.integer(), race: fc.string({ maxLength: 300 }) }, { requiredKeys: ['t'] }).map((f) => JSON.stringify(f)),
  fc.json(),
  fc.string({ unit: 'binary', maxLength: 200 }),
  // Payload encodings (docs/protocol.md §1.1): bytes as base64, broken base64, unknown encodings,
  // keys that look like the encoding, and deep nesting (as deep as fits a URL-encoded hello in 16 KiB of headers; test/unit/data.test.ts goes deeper).
  fc.record({
    s: fc.nat(3),
    e: fc.oneof(fc.constant('b64'), fc.string({ maxLength: 20 })),
    d: fc.oneof(
      fc.json().map((j) => JSON.parse(j) as unknown),
      fc.base64String({ maxLength: 40 }).map(($b) => ({ $b })),
      fc.record({ $b: fc.oneof(fc.string(), fc.integer()), $x: fc.string() }, { requiredKeys: [] }),
      fc.array(fc.base64String({ maxLength: 8 }).map(($b) => ({ $b, __proto__: 1 }))),
    ),
  }).map((f) => JSON.stringify({ t: 'msg', ev: 'echo', ...f })),
  fc.integer({ min: 1, max: 1_500 }).map((n) => `{"t":"msg","s":1,"ev":"echo","e":"b64","d":${'['.repeat(n)}${']'.repeat(n)}}`),
);

/**
 * Binary WebSocket messages (docs/protocol.md §1.3): well formed, with frames and `$r` references
 * of every kind, then possibly cut anywhere or with a length rewritten.
 */
const binaryish = fc
  .record({
    layout: fc.oneof(fc.constant(1), fc.nat(255)),
    header: fc.oneof(
      frameish,
      fc.record({ s: fc.nat(3), e: fc.oneof(fc.constant('bin'), fc.constant('b64'), fc.string({ maxLength: 5 })), r: fc.oneof(fc.nat(4), fc.string({ maxLength: 3 }), fc.double()), deep: fc.nat(400) })
        .map(({ s, e, r, deep }) => `{"t":"msg","s":${s},"ev":"echo","e":"${e}","d":{"a":${'['.repeat(deep)}{"$r":${JSON.stringify(r)}}${']'.repeat(deep)}}}`),
    ),
    segments: fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 4 }),
    cut: fc.option(fc.nat(400), { nil: undefined }),
    lie: fc.option(fc.tuple(fc.nat(60), fc.nat()), { nil: undefined }),
  })
  .map(({ layout, header, segments, cut, lie }) => {
    const h = Buffer.from(header);
    const out = Buffer.concat([Buffer.from([layout, 0, 0, 0, 0]), h, ...segments.flatMap((seg) => [Buffer.alloc(4), Buffer.from(seg)])]);
    out.writeUInt32BE(h.length, 1);
    let at = 5 + h.length;
    for (const seg of segments) out.writeUInt32BE(seg.length, at), (at += 4 + seg.length);
    if (lie && lie[0] + 4 <= out.length) out.writeUInt32BE(lie[1] >>> 0, lie[0]);
    return cut === undefined ? out : out.subarray(0, cut);
  });

it('HTTP: any method, query, headers and body get a documented answer, never a 5xx', async () => {
  const req = fc.record({
    method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'HEAD'),
    t: fc.oneof(fc.constantFrom('sse', 'lp', undefined), fc.string({ maxLength: 10 })),
    hello: fc.option(frameish, { nil: undefined }),
    sid: fc.option(fc.oneof(fc.constant('REAL'), fc.string({ maxLength: 40 })), { nil: undefined }),
    key: fc.option(fc.string({ maxLength: 40 }), { nil: undefined }),
    body: fc.option(fc.tuple(fc.constantFrom('REAL', 'x', ''), fc.array(frameish, { maxLength: 3 })), { nil: undefined }),
    origin: fc.option(fc.constantFrom('http://app.example', 'https://evil.example', 'null', ''), { nil: undefined }),
    site: fc.option(fc.constantFrom('cross-site', 'same-origin', 'none'), { nil: undefined }),
    wsKey: fc.boolean(),
  });
  await fc.assert(
    fc.asyncProperty(req, async (r) => {
      const q = new URLSearchParams();
      if (r.t !== undefined) q.set('t', r.t);
      if (r.hello !== undefined) q.set('hello', r.hello);
      if (r.sid !== undefined) q.set('sid', r.sid === 'REAL' ? session.sid : r.sid);
      if (r.key !== undefined) q.set('key', r.key);
      const headers: Record<string, string> = {};
      if (r.origin !== undefined) headers.Origin = r.origin;
      if (r.site !== undefined) headers['Sec-Fetch-Site'] = r.site;
      if (r.wsKey) headers['Sec-WebSocket-Key'] = 'dGhlIHNhbXBsZSBub25jZQ==';
      const hasBody = r.body !== undefined && r.method !== 'GET' && r.method !== 'HEAD';
      const body = hasBody ? `${r.body![0] === 'REAL' ? session.key : r.body![0]}\n${r.body![1].join(',')}` : undefined;
      const ac = new AbortController();
      const timer = setTimeout(() => ac.abort(), 1500);
      try {
        const res = await fetch(`${url}?${q}`, { method: r.method, headers, body, signal: ac.signal });
        expect(STATUSES).toContain(res.status);
        if (res.status >= 400) {
          expect(res.headers.get('x-wirefall-error')).toBeTruthy();
          if (r.method !== 'HEAD') expect(CODES).toContain((JSON.parse(await res.text()) as { code: string }).code);
        } else if (res.headers.get('content-type')?.startsWith('text/event-stream')) {
          const first = await res.body!.getReader().read();
          expect(String(Buffer.from(first.value ?? []))).toContain('"greet"');
        } else await res.arrayBuffer();
      } catch (e) {
        // Only a poll the server holds for news may outlast the deadline; nothing else hangs.
        expect((e as Error).name).toBe('AbortError');
        expect(r.method === 'GET' && q.get('t') === 'lp' && !q.has('hello')).toBe(true);
      } finally {
        clearTimeout(timer);
        ac.abort();
      }
    }),
    { numRuns: 300 },
  );
  await by.check();
});

it('WebSocket: any sequence of messages gets documented frames and close codes', async () => {
  const run = fc.record({
    origin: fc.option(fc.constantFrom('http://app.example', 'https://evil.example', 'null'), { nil: undefined }),
    hello: fc.boolean(),
    messages: fc.array(
      fc.oneof(
        frameish.map((text) => ({ text, binary: false })),
        fc.uint8Array({ maxLength: 50 }).map((b) => ({ text: Buffer.from(b), binary: true })),
        binaryish.map((b) => ({ text: b, binary: true })),
      ),
      { maxLength: 5 },
    ),
  });
  await fc.assert(
    fc.asyncProperty(run, async ({ origin, hello, messages }) => {
      const ws = track(new WebSocket(url.replace('http', 'ws'), { headers: origin === undefined ? {} : { Origin: origin } }));
      const frames: { t?: string; code?: string }[] = [];
      let closed: number | undefined;
      ws.on('message', (d, binary) => {
        // The server writes binary only in layout 1, and only what decodes (§1.3).
        if (binary) return void frames.push(...(decodeBinary(d as Buffer) as { t?: string }[]));
        const v = JSON.parse(String(d)) as unknown;
        frames.push(...((Array.isArray(v) ? v : [v]) as { t?: string }[]));
      });
      ws.on('close', (code) => (closed = code));
      ws.on('error', () => {});
      const status = await new Promise<number | undefined>((r) => {
        ws.once('open', () => r(101));
        ws.once('unexpected-response', (_q, res) => r(res.statusCode));
      });
      if (status !== 101) {
        expect([403, 429]).toContain(status);
        return;
      }
      if (hello) ws.send('{"t":"hello","v":1}');
      for (const m of messages) ws.send(m.text, { binary: m.binary });
      await new Promise((r) => setTimeout(r, 60));
      ws.terminate();
      await eventually(() => closed !== undefined, 2000, 'the close');
      for (const f of frames) {
        expect(SERVER_FRAMES).toContain(f.t);
        if (f.t === 'error') expect(CODES).toContain(f.code);
      }
      expect(CLOSES).toContain(closed);
    }),
    { numRuns: 120 },
  );
  await by.check();
});
