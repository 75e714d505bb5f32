import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { connect, type Client } from '../../src/index';
import type { Chat } from '../support/harness';
import { fakeClient, type WakeListener } from '../support/fake-client';

let wake: WakeListener | undefined;

const setup = (opts: Parameters<typeof connect>[1] = {}) => fakeClient(opts, (l) => (wake = l));

const flush = () => vi.advanceTimersByTimeAsync(0);

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('verified open', () => {
  test('an open socket is not an open connection: only the welcome verifies it', async () => {
    const { c, t } = setup();
    t.last().open();
    expect(c.state).toBe('connecting');
    t.last().receive({ t: 'greet', v: [1] });
    expect(c.state).toBe('connecting');
    t.last().welcome();
    expect(c.state).toBe('open');
    expect(c.rung).toBe('ws');
    expect(c.attempts.at(-1)).toMatchObject({ rung: 'ws', outcome: 'verified' });
    c.close();
  });

  test('opened but silent (frames dropped after the upgrade) fails with WF_NO_DATA', async () => {
    const { c, t, errors } = setup({ transports: ['ws'] });
    t.last().open();
    await vi.advanceTimersByTimeAsync(5000);
    expect(errors[0]).toMatchObject({ code: 'WF_NO_DATA', rung: 'ws' });
    expect(t.made[0]!.closed).toBeDefined();
    expect(c.state).toBe('connecting');
    c.close();
  });

  test('a greeting without a welcome waits longer (slow server), then fails with WF_NO_WELCOME', async () => {
    const { c, t, errors } = setup({ transports: ['ws'] });
    t.last().greet();
    await vi.advanceTimersByTimeAsync(14_000);
    expect(errors).toHaveLength(0);
    t.last().welcome();
    expect(c.state).toBe('open');
    c.close();
    const second = setup({ transports: ['ws'] });
    second.t.last().greet();
    await vi.advanceTimersByTimeAsync(15_001);
    expect(second.errors[0]).toMatchObject({ code: 'WF_NO_WELCOME' });
    second.c.close();
  });
});

describe('staggered race down the ladder', () => {
  test('a clean network makes one connection: the first rung verifies before the stagger', async () => {
    const { c, t } = setup();
    await vi.advanceTimersByTimeAsync(10);
    t.last().greet().welcome();
    await vi.advanceTimersByTimeAsync(1000);
    expect(t.made.map((x) => x.rung)).toEqual(['ws']);
    c.close();
  });

  test('a silent rung gets company after 250 ms, and the first verified round trip wins', async () => {
    const { c, t } = setup();
    await vi.advanceTimersByTimeAsync(249); // the upgrade hangs
    expect(t.made).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(t.made.map((x) => x.rung)).toEqual(['ws', 'sse']);
    t.made[0]!.open(); // upgrade passed at last, then nothing: the antivirus case
    t.made[1]!.greet().welcome();
    expect(c.state).toBe('open');
    expect(c.rung).toBe('sse');
    expect(t.made[0]!.closed).toBeDefined();
    expect(c.attempts.map((a) => [a.rung, a.outcome, a.reason])).toEqual([
      ['ws', 'abandoned', 'WF_NO_DATA'],
      ['sse', 'verified', undefined],
    ]);
    c.close();
  });

  test('adaptive stagger: a rung silent after its upgrade for as long again as the upgrade took gets company', async () => {
    const { c, t } = setup();
    await vi.advanceTimersByTimeAsync(40);
    t.made[0]!.open(); // the 101 after 40 ms; the greeting should follow it at once
    await vi.advanceTimersByTimeAsync(40 + 1); // 40 ms more, and 2 ms of slack
    expect(t.made).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(t.made.map((x) => x.rung)).toEqual(['ws', 'sse']);
    c.close();
  });

  test('adaptive stagger: a greeting puts the stagger back at 250 ms', async () => {
    const { c, t } = setup();
    await vi.advanceTimersByTimeAsync(10);
    t.made[0]!.greet(); // a slow authenticate may hold the welcome back
    await vi.advanceTimersByTimeAsync(239);
    expect(t.made).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(t.made).toHaveLength(2);
    c.close();
  });

  test('a slow rung that verifies first still wins over a later one', async () => {
    const { c, t } = setup();
    await vi.advanceTimersByTimeAsync(250);
    t.made[0]!.greet().welcome();
    expect(c.rung).toBe('ws');
    expect(t.made[1]!.closed).toBeDefined();
    c.close();
  });

  test('a refused rung starts the next at once, without waiting for the stagger', async () => {
    const { c, t } = setup();
    t.made[0]!.fail({ code: 'WF_REFUSED', message: 'no', status: 403 });
    expect(t.made.map((x) => x.rung)).toEqual(['ws', 'sse']);
    expect(c.attempts).toEqual([]); // recorded when the race ends
    t.made[1]!.greet().welcome();
    expect(c.attempts[0]).toMatchObject({ rung: 'ws', outcome: 'failed', reason: 'WF_REFUSED', status: 403 });
    c.close();
  });

  test('the server refusing (auth) stops the ladder and closes with a typed error', async () => {
    const { c, t, errors } = setup();
    t.made[0]!.greet().receive({ t: 'error', code: 'unauthorized', message: 'bad token', status: 401, fatal: true });
    expect(t.made).toHaveLength(1);
    expect(c.state).toBe('closed');
    expect(errors[0]).toMatchObject({ code: 'WF_UNAUTHORIZED', status: 401, retryable: false });
    await expect(c.send('say', { text: 'x' })).rejects.toMatchObject({ code: 'WF_CLOSED' });
    expect(vi.getTimerCount()).toBe(0);
  });

  test('when every rung fails it retries with jittered backoff', async () => {
    const { c, t, errors } = setup({ reconnect: { base: 1000, max: 10_000 } });
    t.made[0]!.fail({ code: 'WF_NETWORK', message: 'x' });
    t.made[1]!.fail({ code: 'WF_PROXY_AUTH', message: 'proxy', status: 407 });
    expect(errors[0]).toMatchObject({ code: 'WF_PROXY_AUTH', status: 407 });
    await vi.advanceTimersByTimeAsync(499); // random 0.5 × ceiling 1000
    expect(t.made).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(t.made).toHaveLength(3);
    c.close();
  });

  test('"online" during backoff retries at once', async () => {
    const { c, t } = setup({ reconnect: { base: 60_000, max: 60_000 } });
    t.made[0]!.fail({ code: 'WF_NETWORK', message: 'x' });
    t.made[1]!.fail({ code: 'WF_NETWORK', message: 'x' });
    expect(t.made).toHaveLength(2);
    wake?.('online');
    expect(t.made).toHaveLength(3);
    c.close();
  });
});

async function openClient(opts: Parameters<typeof connect>[1] = {}) {
  const s = setup({ transports: ['ws'], ...opts });
  s.t.last().greet().welcome();
  await flush();
  return s;
}

describe('sending and receiving', () => {
  test('messages sent before the open are queued and flushed in call order, in one batch', async () => {
    const { c, t } = setup({ transports: ['ws'] });
    const done = [c.send('say', { text: 'a' }), c.send('say', { text: 'b' }), c.send('echo', { n: 3 })];
    t.last().greet().welcome();
    await flush();
    expect(t.last().sent).toHaveLength(1);
    const msgs = t.last().frames.filter((f) => f.t === 'msg');
    expect(msgs.map((m) => [m.s, m.ev, m.d])).toEqual([
      [1, 'say', { text: 'a' }],
      [2, 'say', { text: 'b' }],
      [3, 'echo', { n: 3 }],
    ]);
    t.last().receive({ t: 'ack', a: 3 });
    await expect(Promise.all(done)).resolves.toBeDefined();
    c.close();
  });

  test('delivers pushes in order, drops duplicates, and acknowledges', async () => {
    const { c, t } = await openClient();
    const got: string[] = [];
    c.subscribe('said', (m) => got.push(m.text));
    t.last().receive({ t: 'msg', s: 1, ev: 'said', d: { from: 'x', text: 'one' } }, { t: 'msg', s: 2, ev: 'said', d: { from: 'x', text: 'two' } });
    t.last().receive({ t: 'msg', s: 2, ev: 'said', d: { from: 'x', text: 'two' } });
    expect(got).toEqual(['one', 'two']);
    await vi.advanceTimersByTimeAsync(25);
    expect(t.last().frames.filter((f) => f.t === 'ack').at(-1)).toEqual({ t: 'ack', a: 2 });
    c.close();
  });

  test('a throwing subscriber is reported and does not stop the others', async () => {
    const { c, t, errors } = await openClient();
    const got: string[] = [];
    c.subscribe('said', () => {
      throw new Error('boom');
    });
    c.subscribe('said', (m) => got.push(m.text));
    t.last().receive({ t: 'msg', s: 1, ev: 'said', d: { from: 'x', text: 'ok' } });
    expect(got).toEqual(['ok']);
    expect(errors[0]?.message).toContain('subscriber threw');
    c.close();
  });

  test('a message larger than the server accepts is refused before sending', async () => {
    const { c } = await openClient();
    await expect(c.send('say', { text: 'x'.repeat(2000) })).rejects.toMatchObject({ code: 'WF_TOO_LARGE' });
    c.close();
  });

  test('a gap in the server sequence is a protocol error that reconnects', async () => {
    const { c, t, errors } = await openClient();
    t.last().receive({ t: 'msg', s: 2, ev: 'said', d: {} });
    expect(errors[0]).toMatchObject({ code: 'WF_PROTOCOL' });
    expect(c.state).toBe('reconnecting');
    c.close();
  });

  test('malformed data from the server is a protocol error, never a crash', async () => {
    const { c, t, errors } = await openClient();
    t.last().ctx.events.message('{"t":"msg"');
    expect(errors[0]).toMatchObject({ code: 'WF_PROTOCOL' });
    c.close();
  });

  test('backpressure also counts messages: half the message bound is high water (small messages fill it first)', async () => {
    const { c, t } = await openClient({ outbox: { maxMessages: 10 } });
    const events: boolean[] = [];
    c.on('backpressure', (high) => events.push(high));
    for (let i = 0; i < 5; i++) void c.send('echo', { n: i });
    expect(events).toEqual([true]);
    await flush();
    t.last().receive({ t: 'ack', a: 3 });
    expect(events).toEqual([true, false]);
    c.close();
  });

  test('ignored rejections never become unhandled (a fire-and-forget send must not crash Node)', async () => {
    const { c } = await openClient({ outbox: { maxMessages: 1 } });
    void c.send('echo', { n: 1 });
    void c.send('echo', { n: 2 }); // outbox full
    c.close(); // the first is rejected with WF_CLOSED
    void c.send('echo', { n: 3 }); // closed
    await flush(); // vitest fails the run on any unhandled rejection
    expect(c.state).toBe('closed');
  });

  test('backpressure: the high-water mark is reported and whenWritable waits for the drain', async () => {
    const { c, t } = await openClient({ outbox: { highWaterBytes: 100 } });
    const events: boolean[] = [];
    c.on('backpressure', (high) => events.push(high));
    for (let i = 0; i < 5; i++) void c.send('say', { text: 'y'.repeat(20) });
    expect(events).toEqual([true]);
    let writable = false;
    void c.whenWritable().then(() => (writable = true));
    await flush();
    expect(writable).toBe(false);
    t.last().receive({ t: 'ack', a: 5 });
    await flush();
    expect(events).toEqual([true, false]);
    expect(writable).toBe(true);
    c.close();
  });
});

describe('heartbeats and stalls', () => {
  test('answers a server ping with its own ping in the same write, and pings on its own when the server does not', async () => {
    const { c, t } = await openClient();
    const before = t.last().sent.length;
    t.last().receive({ t: 'ping', n: 7 });
    await flush();
    // One write carries the answer and our ping: one uplink request per beat on the HTTP rungs.
    const written = t.last().sent.slice(before);
    expect(written.length).toBe(1);
    expect(JSON.parse(written[0]!)).toEqual([{ t: 'pong', n: 7 }, { t: 'ping', n: 1 }]);
    t.last().receive({ t: 'pong', n: 1 });
    expect(c.rtt).toBe(0);
    // No server ping since: the client's own heartbeat pings one interval later.
    await vi.advanceTimersByTimeAsync(4900);
    expect(t.last().frames).not.toContainEqual({ t: 'ping', n: 2 });
    await vi.advanceTimersByTimeAsync(200);
    expect(t.last().frames).toContainEqual({ t: 'ping', n: 2 });
    t.last().receive({ t: 'pong', n: 2 });
    expect(c.state).toBe('open');
    c.close();
  });

  test('an idle connection whose server goes silent is abandoned within 15 s', async () => {
    const { c, t, errors } = await openClient();
    const first = t.last();
    let at = 0;
    c.on('state', (s) => s === 'reconnecting' && (at = Date.now()));
    const start = Date.now();
    await vi.advanceTimersByTimeAsync(15_000);
    expect(errors[0]).toMatchObject({ code: 'WF_STALLED' });
    expect(at - start).toBeLessThanOrEqual(7100); // ping at 5 s + 2 s answer deadline
    expect(first.closed).toBeDefined(); // abandoned at once, not waiting for the socket's close
    c.close();
  });

  test('a stall mid-conversation is found within the answer deadline, not the next heartbeat', async () => {
    const { c, t, errors } = await openClient();
    await vi.advanceTimersByTimeAsync(1000);
    void c.send('say', { text: 'hello?' }).catch(() => {});
    await vi.advanceTimersByTimeAsync(1999);
    expect(errors).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(2);
    expect(errors[0]).toMatchObject({ code: 'WF_STALLED' });
    expect(t.made[0]!.closed).toBeDefined();
    c.close();
  });

  test('pings keep coming but nothing is acknowledged: the uplink is swallowed', async () => {
    const { c, t, errors } = await openClient();
    void c.send('say', { text: 'anyone?' }).catch(() => {});
    for (let i = 0; i < 4; i++) {
      await vi.advanceTimersByTimeAsync(600);
      t.last().receive({ t: 'ping' });
    }
    expect(errors[0]).toMatchObject({ code: 'WF_UPLINK_STALLED' });
    c.close();
  });

  test('becoming visible checks the connection at once', async () => {
    const { c, t } = await openClient();
    wake?.('visible');
    await flush();
    expect(t.last().frames).toContainEqual({ t: 'ping', n: 1 });
    c.close();
  });
});

describe('resume', () => {
  test('after a stall it reconnects, presents the session, and resends only what was not acknowledged', async () => {
    const { c, t } = await openClient({ reconnect: { base: 10, max: 10 } });
    t.last().receive({ t: 'msg', s: 1, ev: 'said', d: { from: 'a', text: 'x' } });
    // Written apart: sends of one tick share a promise, settled when all of them are acknowledged.
    const p1 = c.send('say', { text: '1' });
    await flush();
    const p2 = c.send('say', { text: '2' });
    await flush();
    t.last().fail({ code: 'WF_DISCONNECTED', message: 'cut' });
    expect(c.state).toBe('reconnecting');
    await vi.advanceTimersByTimeAsync(10);
    const second = t.last();
    expect(t.made).toHaveLength(2);
    expect(JSON.parse(second.ctx.hello)).toMatchObject({ t: 'hello', sid: 's1', key: 'k1', ack: 1 });
    second.greet().welcome({ resumed: true, ack: 1 });
    await flush();
    await expect(p1).resolves.toBeUndefined();
    expect(second.frames.filter((f) => f.t === 'msg').map((f) => f.d)).toEqual([{ text: '2' }]);
    second.receive({ t: 'ack', a: 2 });
    await expect(p2).resolves.toBeUndefined();
    c.close();
  });

  test('a lost session is said plainly: sessionlost lists what may not have arrived', async () => {
    const { c, t, errors } = await openClient({ reconnect: { base: 10, max: 10 } });
    const lostEvents: unknown[] = [];
    c.on('sessionlost', (u) => lostEvents.push(u));
    const p = c.send('say', { text: 'maybe' });
    const rejected = expect(p).rejects.toMatchObject({ code: 'WF_SESSION_LOST' });
    await flush();
    t.last().fail({ code: 'WF_DISCONNECTED', message: 'cut' });
    const later = c.send('say', { text: 'never sent' });
    await vi.advanceTimersByTimeAsync(10);
    t.last().greet().welcome({ sid: 's2', resumed: false });
    await flush();
    await rejected;
    expect(lostEvents).toEqual([[{ type: 'say', data: { text: 'maybe' } }]]);
    expect(errors.map((e) => e.code)).toContain('WF_SESSION_LOST');
    // What was never written is sent on the new session, renumbered from 1.
    expect(t.last().frames.filter((f) => f.t === 'msg')).toEqual([{ t: 'msg', s: 1, ev: 'say', d: { text: 'never sent' } }]);
    t.last().receive({ t: 'ack', a: 1 });
    await expect(later).resolves.toBeUndefined();
    c.close();
  });
});

describe('a new session after a lost one', () => {
  test('claims it acknowledging nothing: what the old session delivered is not carried over', async () => {
    const { c, t } = await openClient({ reconnect: { base: 10, max: 10 } });
    t.last().receive({ t: 'msg', s: 1, ev: 'said', d: { from: 'x', text: 'a' } }, { t: 'msg', s: 2, ev: 'said', d: { from: 'x', text: 'b' } });
    await flush();
    t.last().fail({ code: 'WF_DISCONNECTED', message: 'cut' });
    await vi.advanceTimersByTimeAsync(10);
    const next = t.last();
    expect(JSON.parse(next.ctx.hello)).toMatchObject({ ack: 2 }); // the resume says what it had
    next.greet().welcome({ sid: 's2', resumed: false });
    await flush();
    // The claim on the new session: ack 0, not the old session's 2 (the server would close 4000).
    expect(next.frames.filter((f) => f.t === 'ack')).toEqual([{ t: 'ack', a: 0 }]);
    expect(c.state).toBe('open');
    c.close();
  });
});

describe('close', () => {
  test('close() rejects unacknowledged sends, stops every timer, and never reconnects', async () => {
    const { c, t, states } = await openClient();
    const p = c.send('say', { text: 'bye' });
    c.close();
    await expect(p).rejects.toMatchObject({ code: 'WF_CLOSED' });
    expect(t.last().closed?.code).toBe(1000);
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(t.made).toHaveLength(1);
    expect(states.at(-1)).toBe('closed');
    expect(wake).toBeUndefined();
  });
});

// Client<Chat> is what the tests drive; keep the import used for its type.
export type { Client };
