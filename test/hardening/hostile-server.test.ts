import { afterEach, expect, test } from 'vitest';
import type { Client, ClientOptions, RungName } from '../../src/index';
import { cleanup, client, eventually, startServer, until, type Chat } from '../support/harness';
import { alive, DOCUMENTED, framesOf, GREET, hostileServer, peak, watch, welcome, WELCOME, type Script, type Step } from '../support/hostile';

afterEach(cleanup);

/*
 * A hostile or broken server must not hurt the client (docs/protocol.md §1: a receiver keeps
 * nothing unbounded that a peer chose; "every queue has a bound and every wait has a deadline").
 * A raw server (test/support/hostile.ts) answers the client's hello on each rung with frames
 * that are valid JSON but break the protocol, with garbage, or with nothing: the client must not
 * throw, must not spin, must say what happened with a documented code, must keep its buffers
 * bounded, and must neither lose nor double what the app sent once it reaches a sane server.
 */

const RUNGS = ['ws', 'sse', 'longpoll'] as const;
/** Short deadlines, so that each case takes a few seconds; a backoff that soon tries again. */
const QUICK: ClientOptions = { openTimeout: 1000, welcomeTimeout: 1000, answerDeadline: 1000, reconnect: { base: 50, max: 300 }, rememberRungMs: 0, upgradeProbe: false };
const BYE = '{"t":"bye","code":1001}';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function scenario(rung: RungName, script: Script, opts: ClientOptions = {}, real?: number) {
  const s = await hostileServer(script, real);
  const c = client(s.url, { ...QUICK, transports: [rung], ...opts });
  const w = watch(c);
  /** What every case must hold: nothing escaped, documented codes, no ping storm. */
  const sound = (pingsPerSecond = 2) => {
    expect(w.escaped).toEqual([]);
    for (const code of w.codes()) expect(DOCUMENTED).toContain(code);
    const pings = framesOf(s.sent).filter((x) => x.f.t === 'ping');
    expect(peak(pings.map((x) => x.at))).toBeLessThanOrEqual(pingsPerSecond);
  };
  return { s, c, w, sound };
}

/** Steps after a valid welcome (heartbeat `hb`), then silence. */
const after = (steps: Step[], extra: Record<string, unknown> = {}): Script => ({ open: (n) => (n === 1 ? [...welcome(extra), ...steps] : welcome({ ...extra, sid: `h${n}` })), reply: alive() });

// A welcome's heartbeat is the server's beat, and the client's own ping and silence bound follow
// it (§5). `hb` 0 or 1 (valid to the codec: a non-negative integer) made the client ping every
// millisecond and find the link stalled after 2 ms of silence: it never stayed open, and each
// stall counted against the rung. Trusted from 1 s up (as up to 60 s above): a server with a
// shorter beat still pings as often as it likes, but the client paces itself no faster.
for (const rung of RUNGS) {
  for (const hb of [0, 1, 2 ** 53 - 1]) {
    test(`${rung}: a welcome's hb of ${hb} keeps a live link, and the client pings at most about once a second`, async () => {
      const { c, w, sound } = await scenario(rung, { open: () => welcome({ hb }), reply: alive() });
      await until(c, 'open', 5000);
      await sleep(2500);
      expect(w.codes()).toEqual([]);
      expect(c.state).toBe('open');
      sound();
    });
  }
}

/** A real server behind the hostile one (`sane()`), recording the `say` messages it receives. */
async function realServer() {
  const { server, port } = await startServer();
  const got: string[] = [];
  server.on('connection', (conn) => conn.subscribe('say', (d) => void got.push(d.text)));
  return { port, got, server };
}

/** The app's sends: each promise's outcome, by text. */
function sends(c: Client<Chat>, texts: string[], out: Record<string, string> = {}) {
  for (const text of texts) c.send('say', { text }).then(() => (out[text] = 'ok'), (e: { code: string }) => (out[text] = e.code));
  return out;
}

// A welcome that breaks a rule of §1 (a field missing, mistyped, out of bounds, a version the hello
// did not offer) fails its attempt as WF_PROTOCOL and gives the client no session: the next hello
// opens one (no `sid`), and what the app queued meanwhile reaches the sane server once, in order.
const BAD_WELCOMES: Record<string, unknown>[] = [
  { hb: -1 },
  { hb: '5000' },
  { hb: null },
  { hb: undefined },
  { hb: 1.5 },
  { hb: 2 ** 53 },
  { max: -1 },
  { max: undefined },
  { max: '65536' },
  { ack: -1 },
  { ack: undefined },
  { v: 4 },
  { v: undefined },
  { v: '3' },
  { sid: 'x'.repeat(129) },
  { key: undefined },
  { resumed: 'no' },
  { resumed: undefined },
];
for (const rung of RUNGS) {
  test(`${rung}: ${BAD_WELCOMES.length} malformed welcomes in a row each fail their attempt as WF_PROTOCOL; no session is taken, and the queued sends reach the sane server once`, async () => {
    const real = await realServer();
    const { s, c, w, sound } = await scenario(rung, { open: (n) => [GREET, JSON.stringify({ ...WELCOME, ...BAD_WELCOMES[n - 1] })] }, {}, real.port);
    const out = sends(c, ['a', 'b', 'c']);
    await eventually(() => c.attempts.length >= BAD_WELCOMES.length, 20_000, 'every malformed welcome');
    s.sane();
    await eventually(() => Object.keys(out).length === 3, 10_000, 'the sends settled');
    expect(out).toEqual({ a: 'ok', b: 'ok', c: 'ok' });
    expect(real.got).toEqual(['a', 'b', 'c']);
    const refused = c.attempts.slice(0, BAD_WELCOMES.length);
    expect(refused.map((a) => [a.outcome, a.reason])).toEqual(BAD_WELCOMES.map(() => ['failed', 'WF_PROTOCOL']));
    // No hello ever named a session: none was taken from a malformed welcome.
    expect(s.sent.filter((x) => x.kind === 'hello').every((x) => !JSON.parse(x.text).sid)).toBe(true);
    sound();
  }, 40_000);
}

// `max` is the largest message the server takes (§1). No payload is shorter than one byte of JSON,
// so a `max` of 0 says the server takes nothing (ours refuses a maxMessageBytes under 1). Taken as
// a smaller `max` (§4: a rolling deploy), it turned every message the app had queued into a
// `$skip` and rejected its send with WF_TOO_LARGE, for good: messages any sane server would take
// were lost to one broken welcome. Now it is a malformed welcome (WF_PROTOCOL), as a negative one is.
for (const rung of RUNGS) {
  test(`${rung}: a welcome whose max is 0 fails its attempt as WF_PROTOCOL, and the sends queued meanwhile reach the sane server`, async () => {
    const real = await realServer();
    const { s, c, w, sound } = await scenario(rung, { open: () => welcome({ max: 0 }), reply: alive() }, {}, real.port);
    const out = sends(c, ['a', 'b']);
    await eventually(() => w.errors.length > 0 || Object.keys(out).length === 2, 5000, 'an error');
    s.sane();
    await eventually(() => Object.keys(out).length === 2, 10_000, 'the sends settled');
    expect(out).toEqual({ a: 'ok', b: 'ok' });
    expect(real.got).toEqual(['a', 'b']);
    expect(w.codes()[0]).toBe('WF_PROTOCOL');
    sound();
  });
}

// A resume welcome that the client refuses (another session than the hello named, §4) still set
// the session's `max` before the check: until the next welcome, every send over it was rejected
// with WF_TOO_LARGE, although no server had said so (a hostile welcome with `max: 1` made the
// app's next sends fail for good).
for (const rung of RUNGS) {
  test(`${rung}: a refused resume welcome does not lower the max the app's sends are checked against`, async () => {
    const real = await realServer();
    const out: Record<string, string> = {};
    let sent = false;
    const { s, c, w, sound } = await scenario(
      rung,
      {
        // The first link ends with a bye (on long-polling, in the first poll's answer).
        open: (n) => (n > 1 ? welcome({ resumed: true, sid: 'another', max: 1 }) : rung === 'longpoll' ? welcome() : [...welcome(), { wait: 300 }, BYE]),
        poll: (p, n) => (n === 1 && p === 1 ? [{ wait: 300 }, BYE] : undefined),
        reply: alive(),
      },
      {},
      real.port,
    );
    await until(c, 'open', 5000);
    c.on('error', (e) => {
      if (e.code !== 'WF_PROTOCOL' || sent) return;
      // Between the refused welcome and the next one: the app sends.
      sent = true;
      sends(c, ['x'], out);
      s.sane();
    });
    await eventually(() => 'x' in out, 10_000, 'the send settled');
    expect(out).toEqual({ x: 'ok' });
    expect(real.got).toEqual(['x']);
    expect(w.codes()).toContain('WF_PROTOCOL');
    sound();
  });
}

// On a cold start the first HTTP rung races beside WebSocket, and when it verifies first it is
// held while WebSocket may still be on time (src/core/race.ts). Here WebSocket greets at 300 ms and
// never welcomes; long-polling's welcome comes at 600 ms, so it is held until ~900 ms, and its
// first poll is answered meanwhile, at once.
const held = (firstPoll: string): Script => ({
  open: (n, rung) => (rung === 'ws' ? [{ wait: 300 }, GREET] : n === 1 ? [...welcome(), { wait: 600 }] : welcome({ sid: `h${n}` })),
  poll: (p, n) => (n === 1 && p === 1 ? [firstPoll] : undefined),
  reply: alive(),
});
const heldOptions: ClientOptions = { transports: ['ws', 'longpoll'], earlyFallback: true, welcomeTimeout: 1000 };

// A held attempt that failed (its first poll's answer broke the protocol) left the race's timer
// armed to decide for it: the timer then read the held attempt, gone, and threw a TypeError from
// a timer, uncaught (a crash in Node), while the race waited for its other attempts.
test('longpoll held by the race, its first poll answered with an unknown frame: the attempt fails as WF_PROTOCOL, nothing thrown, the next race opens', async () => {
  const { s, c, w, sound } = await scenario('ws', held('{"t":"foo"}'), heldOptions);
  await until(c, 'open', 8000);
  expect(c.attempts.find((a) => a.rung === 'longpoll')).toMatchObject({ outcome: 'failed', reason: 'WF_PROTOCOL' });
  expect(s.opens.longpoll).toBeGreaterThanOrEqual(2);
  sound();
});

// What arrived while an attempt was held joined the frames handed over with its welcome through
// `push(...frames)`: a batch of 200,000 frames (3.6 MB of valid pings, well within the transport's
// bound) is more arguments than a call takes, and the RangeError failed the attempt as WF_NETWORK,
// a working rung judged broken for what its server legitimately sent.
test('longpoll held by the race, its first poll answered with 200,000 frames: the attempt still wins, no error', async () => {
  const pings = `[${Array.from({ length: 200_000 }, () => '{"t":"ping","q":1}').join(',')}]`;
  const { c, w, sound } = await scenario('ws', held(pings), heldOptions);
  await until(c, 'open', 8000);
  expect(c.rung).toBe('longpoll');
  expect(c.attempts.find((a) => a.rung === 'longpoll')).toMatchObject({ outcome: 'verified' });
  expect(w.codes()).toEqual([]);
  sound();
});

// After a valid welcome, each link gets one thing that breaks the protocol (§1, §4): the link ends
// with the documented code, the client resumes (each welcome resumes the session), nothing throws.
const VIOLATIONS: [what: string, text: string, code?: string][] = [
  ['a second welcome', JSON.stringify(WELCOME)],
  ['a greeting after the welcome', GREET],
  ['a gap in the numbers', '{"t":"msg","s":2,"ev":"said","d":1}'],
  ['a number past 2^53', '{"t":"msg","s":9007199254740993,"ev":"said","d":1}'],
  ['the largest safe number', '{"t":"msg","s":9007199254740991,"ev":"said","d":1}'],
  ['number 0', '{"t":"msg","s":0,"ev":"said","d":1}'],
  ['a fractional number', '{"t":"msg","s":1.5,"ev":"said","d":1}'],
  ['a number as a string', '{"t":"msg","s":"1","ev":"said","d":1}'],
  ['an empty type', '{"t":"msg","s":1,"ev":"","d":1}'],
  ['an unknown encoding', '{"t":"msg","s":1,"ev":"said","d":1,"e":"zip"}'],
  ['broken base64', '{"t":"msg","s":1,"ev":"said","d":{"$b":"!!"},"e":"b64"}'],
  ['an ack of unsent messages', '{"t":"ack","a":5}'],
  ['an ack of unsent messages in a msg', '{"t":"msg","s":1,"ev":"said","d":1,"a":3}'],
  ['a negative ack', '{"t":"ack","a":-1}'],
  ['an unknown type', '{"t":"foo"}'],
  ['a hello', '{"t":"hello","v":3}'],
  ['a report', '{"t":"report","a":[]}'],
  ['a run', '{"t":"run","s":1,"ev":"said","d":[1]}'],
  ['a type __proto__', '{"t":"__proto__"}'],
  ['a type constructor', '{"t":"constructor"}'],
  ['no type', '{}'],
  ['a batch with one bad frame', '[{"t":"ping","q":1},{"t":"foo"}]'],
  ['an error code over 64 characters', JSON.stringify({ t: 'error', code: 'x'.repeat(65), message: '' })],
  ['a bye reason over 123 bytes', JSON.stringify({ t: 'bye', code: 1000, reason: 'é'.repeat(62) })],
  ['truncated JSON', '{"t":"msg"'],
  ['not JSON', 'not json', 'WF_REFUSED'],
  ['null', 'null', 'WF_REFUSED'],
  ['a number', '1', 'WF_REFUSED'],
  ['a NUL', '\u0000', 'WF_REFUSED'],
  ['a bye', '{"t":"bye","code":1001,"reason":"bye"}', 'WF_DISCONNECTED'],
];
for (const rung of RUNGS) {
  test(`${rung}: ${VIOLATIONS.length} protocol violations after the welcome, one per link, each end the link with its code`, async () => {
    // Long-polling: in the first poll's answer (the open's answer is one batch).
    const violation = (n: number): Step[] => (n <= VIOLATIONS.length ? [VIOLATIONS[n - 1]![1]] : []);
    const resume = (hello: Record<string, unknown>) => welcome(hello.sid ? { sid: hello.sid, resumed: true } : {});
    const { s, c, w, sound } = await scenario(rung, {
      open: (n, _, hello) => [...resume(hello), ...(rung === 'longpoll' ? [] : violation(n))],
      poll: (p, n) => (p === 1 && n <= VIOLATIONS.length ? violation(n) : undefined),
      reply: alive(),
    });
    await eventually(() => s.opens[rung] > VIOLATIONS.length && c.state === 'open', 30_000, 'every violation');
    // The text transports refuse what is not a frame as WF_PROTOCOL; only a long-poll answer that
    // does not begin with `[` or `{` is taken for a middlebox's page (WF_REFUSED, §2.3).
    const expected = VIOLATIONS.map(([, text, code]) => (code === 'WF_REFUSED' && rung !== 'longpoll' ? 'WF_PROTOCOL' : (code ?? 'WF_PROTOCOL')));
    expect(w.codes()).toEqual(expected);
    expect(c.attempts.every((a) => a.outcome === 'verified')).toBe(true);
    sound();
  }, 60_000);
}

// Binary where text is expected, and bytes that are not UTF-8.
const BYTES: [RungName, Step, string][] = [
  ['ws', { raw: Buffer.from('hello') }, 'WF_PROTOCOL'],
  ['ws', { raw: Buffer.from([1, 0, 0, 0, 50, 123]) }, 'WF_PROTOCOL'],
  ['ws', { raw: Buffer.from([1, 0, 0, 0, 2, 0xff, 0xfe]) }, 'WF_PROTOCOL'],
  ['sse', { raw: Buffer.from([0x64, 0x61, 0x74, 0x61, 0x3a, 0x20, 0xff, 0xfe, 10, 10]) }, 'WF_PROTOCOL'],
  ['longpoll', { raw: Buffer.from([0xff, 0xfe]) }, 'WF_REFUSED'],
  ['longpoll', { raw: Buffer.from([0x7b, 0xff, 0xfe, 0x7d]) }, 'WF_PROTOCOL'],
];
for (const [rung, step, code] of BYTES) {
  test(`${rung}: ${JSON.stringify((step as { raw: Buffer }).raw.toString('hex'))} where a transport message is due ends the link as ${code}`, async () => {
    const { c, w, sound } = await scenario(rung, {
      open: (n) => (n === 1 && rung !== 'longpoll' ? [...welcome(), step] : welcome({ sid: `h${n}` })),
      poll: (p, n) => (n === 1 && p === 1 ? [step] : undefined),
      reply: alive(),
    });
    await eventually(() => w.errors.length > 0, 5000, 'an error');
    expect(w.codes()[0]).toBe(code);
    await until(c, 'open', 5000);
    sound();
  });
}

// A message sent again (the server missed our ack) is delivered once and acknowledged again (§4).
for (const rung of RUNGS) {
  test(`${rung}: repeated messages are delivered once, in order, and acknowledged again`, async () => {
    const msg = (s: number) => `{"t":"msg","s":${s},"ev":"said","d":{"from":"x","text":"${s}"}}`;
    const burst = [msg(1), msg(1), msg(2), msg(1), msg(2), msg(3)];
    const { s, c, w, sound } = await scenario(rung, {
      open: () => [...welcome(), ...(rung === 'longpoll' ? [] : burst)],
      poll: (p) => (p === 1 ? [`[${burst.join(',')}]`] : undefined),
      reply: alive(),
    });
    const got: string[] = [];
    c.subscribe('said', (d) => got.push(d.text));
    await eventually(() => got.length >= 3 && framesOf(s.sent).some((x) => x.f.t === 'ack' && x.f.a === 3), 5000, 'the messages and their ack');
    await sleep(200);
    expect(got).toEqual(['1', '2', '3']);
    expect(w.codes()).toEqual([]);
    sound();
  });
}

// Waits with no end: each has a deadline, and says which.
const HANGS: [RungName, string, Script, string][] = [
  ['ws', 'no greeting', { open: () => [] }, 'WF_NO_DATA'],
  ['ws', 'a greeting, no welcome', { open: () => [GREET] }, 'WF_NO_WELCOME'],
  ['ws', 'silence after the welcome', { open: () => welcome({ hb: 1000 }) }, 'STALLED'],
  ['sse', 'an event stream with no event', { open: () => [{ raw: ':\n' }] }, 'WF_NO_DATA'],
  ['sse', 'a greeting, no welcome', { open: () => [GREET] }, 'WF_NO_WELCOME'],
  ['sse', 'comments without end before the greeting', { open: () => [{ endless: ': ka\n'.repeat(1000) }] }, 'WF_NO_DATA'],
  ['sse', 'comments without end after the welcome', { open: () => [...welcome({ hb: 1000 }), { endless: ': ka\n'.repeat(1000) }] }, 'STALLED'],
  ['longpoll', 'an open answer that never ends', { open: () => [{ raw: `[${GREET}` }, { wait: 60_000 }] }, 'WF_OPEN_TIMEOUT'],
  ['longpoll', 'a poll answer that never ends', { open: () => welcome({ hb: 1000 }), poll: () => ['[', { wait: 60_000 }] }, 'STALLED'],
  // Stalled, or past the 100 Mi bound of a transport message first (loopback is fast).
  ['longpoll', 'a poll answer of spaces without end', { open: () => welcome({ hb: 1000 }), poll: () => ['[', { endless: ' '.repeat(1 << 14) }] }, 'STALLED|WF_PROTOCOL'],
];
for (const [rung, what, script, code] of HANGS) {
  test(`${rung}: ${what} ends within its deadline as ${code}`, async () => {
    const { c, w, sound } = await scenario(rung, script, { reconnect: { base: 5000, max: 5000 } });
    const t0 = Date.now();
    await eventually(() => w.errors.length > 0, 6000, 'an error');
    expect(w.codes()[0]).toMatch(new RegExp(code));
    expect(Date.now() - t0).toBeLessThan(4000);
    expect(c.buffered.messages).toBe(0);
    sound();
  });
}

// A long-poll answer of 200,000 frames on a live link (well within the 100 Mi bound): taken, once.
test('longpoll: an answer of 200,000 pings that want no answer, on a live link, is taken without an error or an answer', async () => {
  const pings = `[${Array.from({ length: 200_000 }, () => '{"t":"ping","q":1}').join(',')}]`;
  const { s, c, w, sound } = await scenario('longpoll', { open: () => welcome(), poll: (p) => (p === 1 ? [pings] : undefined), reply: alive() });
  await until(c, 'open', 5000);
  await sleep(1500);
  expect(w.codes()).toEqual([]);
  expect(c.state).toBe('open');
  // No pong for a `q: 1` ping: at most the claim's ack and a ping or two of our own went up.
  expect(s.sent.filter((x) => x.kind === 'up').length).toBeLessThan(5);
  sound();
});
