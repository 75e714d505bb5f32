import fc from 'fast-check';
import { afterEach, expect, test } from 'vitest';
import { cleanup, client, eventually, startServer } from '../support/harness';
import { alive, DOCUMENTED, framesOf, GREET, hostileServer, peak, watch, WELCOME, type Step } from '../support/hostile';

afterEach(cleanup);

/*
 * A property of the client against any server (test/hardening/hostile-server.test.ts has the
 * targeted cases): whatever a hostile server answers on one rung for a while (a welcome with any
 * field at an extreme, mistyped or missing; then frames valid or not, in any order), and then a
 * sane server takes over, the client
 * - throws nothing that reaches `process`,
 * - reports only documented codes,
 * - does not spin: its own pings stay at about one a second (plus one per ping of the server's),
 *   and no link that answers its pings is found stalled,
 * - and neither loses nor doubles what the app sent: each send resolves once the sane server has
 *   it, or rejects saying it may not have arrived (WF_SESSION_LOST: it went to the hostile one) or
 *   could not (WF_TOO_LARGE: a welcome's `max` of 1 byte, which is legal); the sane server gets
 *   each at most once, in order.
 * The hostile server never acknowledges the app's messages (a server that lies about them cannot
 * be caught by any client); it may acknowledge more than was sent, which is a protocol error.
 */

/** Valid values (extremes included), four times as likely as invalid ones, so that most welcomes are taken. */
const either = <T, U>(valid: T[], invalid: U[]) => fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...valid) }, { weight: 1, arbitrary: fc.constantFrom(...invalid) });
const field = {
  hb: either([0, 1, 999, 5000, 2 ** 53 - 1], [-1, 1.5, '5000', null]),
  max: either([1, 64, 65536, 2 ** 53 - 1], [0, -1, '65536', null]),
  ack: either([0], [99, -1, '0']),
  v: either([3], [4, 2, '3']),
  resumed: either([false, true], ['no']),
  sid: either(['h1', 'h2', ''], ['x'.repeat(129), 7]),
  key: either(['k1'], ['x'.repeat(129)]),
  // Optional fields: the client must not care what else they hold.
  rep: fc.constantFrom(16, 0, -1, 'x', undefined),
  rp: fc.constantFrom(1, 0, 'x', undefined),
  bin: fc.constantFrom(1, 0, undefined),
  pa: fc.constantFrom(1, 0, undefined),
  run: fc.constantFrom(1, 0, undefined),
};
const dropArb = fc.oneof({ weight: 4, arbitrary: fc.constant([] as string[]) }, { weight: 1, arbitrary: fc.subarray(['hb', 'max', 'ack', 'v', 'sid', 'key', 'resumed'], { minLength: 1, maxLength: 1 }) });
/** A welcome with some fields at extremes, mistyped, or left out. */
const welcomeArb = fc.record({ ...field, drop: dropArb }).map(({ drop, ...w }) => {
  const out: Record<string, unknown> = { ...WELCOME, ...w };
  for (const k of drop) delete out[k];
  return JSON.stringify(out);
});

const num = fc.constantFrom(0, 1, 2, 3, 50, -1, 1.5, 2 ** 53 - 1, '1');
/** A frame a hostile server may send, valid or not (never an ack of the app's messages). */
const frameArb: fc.Arbitrary<string> = fc.oneof(
  fc.record({ t: fc.constant('msg'), s: num, ev: fc.constantFrom('said', '', 'x'.repeat(257)), d: fc.jsonValue({ maxDepth: 2 }) }).map((f) => JSON.stringify(f)),
  fc.record({ t: fc.constant('msg'), s: num, ev: fc.constant('said'), d: fc.constant({ $b: 'AAE=' }), e: fc.constantFrom('b64', 'zip', 'bin') }).map((f) => JSON.stringify(f)),
  fc.record({ t: fc.constant('ack'), a: fc.constantFrom(0, 50, -1, 'x') }).map((f) => JSON.stringify(f)),
  fc.record({ t: fc.constant('ping'), n: fc.option(num, { nil: undefined }), q: fc.option(fc.constantFrom(0, 1), { nil: undefined }) }).map((f) => JSON.stringify(f)),
  fc.record({ t: fc.constant('pong'), n: fc.option(num, { nil: undefined }) }).map((f) => JSON.stringify(f)),
  fc.record({ t: fc.constant('error'), code: fc.constantFrom('server_error', 'unauthorized', 'x'.repeat(65)), message: fc.string({ maxLength: 8 }) }).map((f) => JSON.stringify(f)),
  fc.record({ t: fc.constant('bye'), code: fc.constantFrom(1000, 1001, 4000, 4409, -1) }).map((f) => JSON.stringify(f)),
  fc.constantFrom(GREET, JSON.stringify(WELCOME), '{"t":"foo"}', '{"t":"hello","v":3}', '{}', '[]', 'null', 'garbage', '{"t":"msg"', '\u0000'),
);

const QUICK = { openTimeout: 800, welcomeTimeout: 800, answerDeadline: 1500, reconnect: { base: 50, max: 200 }, rememberRungMs: 0, upgradeProbe: false } as const;

for (const rung of ['ws', 'sse', 'longpoll'] as const) {
  test(`${rung}: whatever a hostile server answers, then a sane one: nothing thrown, documented codes, no spin, nothing lost or doubled`, async () => {
    await fc.assert(
      fc.asyncProperty(welcomeArb, fc.array(frameArb, { maxLength: 8 }), async (welcome, frames) => {
        try {
          const { server, port } = await startServer();
          const got: string[] = [];
          server.on('connection', (conn) => conn.subscribe('say', (d) => void got.push(d.text)));
          // Each link: the greeting, the welcome, then the frames (long-polling: one per poll answer).
          const s = await hostileServer(
            {
              open: () => [GREET, welcome, ...(rung === 'longpoll' ? [] : frames.flatMap((f): Step[] => [{ wait: 20 }, f]))],
              poll: (p) => (p <= frames.length ? [frames[p - 1]!] : undefined),
              reply: alive(false),
            },
            port,
          );
          const c = client(s.url, { ...QUICK, transports: [rung] });
          const w = watch(c);
          const out: Record<string, string> = {};
          for (const text of ['a', 'b', 'c']) c.send('say', { text }).then(() => (out[text] = 'ok'), (e: { code: string }) => (out[text] = e.code));
          await new Promise((r) => setTimeout(r, 800));
          s.sane();
          await eventually(() => Object.keys(out).length === 3, 10_000, 'every send settled');
          await new Promise((r) => setTimeout(r, 50)); // a late duplicate would show
          expect(w.escaped).toEqual([]);
          for (const code of w.codes()) expect(DOCUMENTED).toContain(code);
          // Every ping is answered (here, and by the sane server): no link may be found stalled.
          expect(w.codes().filter((code) => code.endsWith('STALLED'))).toEqual([]);
          // Each link of the hostile server sends the frames again: its pings are answered with ours.
          const serverPings = frames.filter((f) => f.includes('"t":"ping"')).length * s.opens[rung];
          expect(peak(framesOf(s.sent).filter((x) => x.f.t === 'ping').map((x) => x.at))).toBeLessThanOrEqual(2 + serverPings);
          for (const [text, r] of Object.entries(out)) {
            expect(['ok', 'WF_SESSION_LOST', 'WF_TOO_LARGE']).toContain(r);
            if (r === 'ok') expect(got).toContain(text);
          }
          expect(got).toEqual(['a', 'b', 'c'].filter((t) => got.includes(t)));
        } finally {
          await cleanup();
        }
      }),
      { numRuns: 8, endOnFailure: true },
    );
  }, 120_000);
}
