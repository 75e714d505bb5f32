import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { connect } from '../../src/index';
import type { Chat } from '../support/harness';
import { fakeTransports } from '../support/fake-transport';
import { mapStorage } from '../support/map-storage';

// The cold start's early HTTP rung and the hold that keeps a clean network on WebSocket
// (docs/transports.md, "Staggered racing"). The sequential ladder is tested in client.test.ts.
function setup(storage = mapStorage()) {
  const t = fakeTransports();
  const c = connect<Chat>('http://h.test/wf', {
    transports: ['ws', 'sse', 'longpoll'],
    transportFactories: { ws: t.factory, sse: t.factory, longpoll: t.factory },
    reconnect: { base: 10, max: 10 },
    platform: { storage, random: () => 0.5, onWake: () => () => {} },
  });
  return { c, t, storage };
}
const rungs = (t: ReturnType<typeof fakeTransports>) => t.made.map((x) => x.rung);

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe('cold start: the first HTTP rung starts beside WebSocket', () => {
  test('WebSocket verifying first wins; the HTTP attempt is abandoned, and nothing else starts', async () => {
    const { c, t } = setup();
    expect(rungs(t)).toEqual(['ws', 'sse']);
    await vi.advanceTimersByTimeAsync(3);
    t.made[0]!.greet().welcome();
    expect(c.rung).toBe('ws');
    expect(t.made[1]!.closed).toBeDefined();
    await vi.advanceTimersByTimeAsync(1000);
    expect(rungs(t)).toEqual(['ws', 'sse']);
    c.close();
  });

  test('HTTP verifying first is held while WebSocket can still be on time: a clean network ends on WebSocket', async () => {
    const { c, t } = setup();
    await vi.advanceTimersByTimeAsync(4);
    t.made[1]!.greet().welcome(); // sse verified in 4 ms
    await vi.advanceTimersByTimeAsync(1);
    t.made[0]!.greet(); // the 101 (and the greeting) after 5 ms: within 4 + 2
    await vi.advanceTimersByTimeAsync(5); // the welcome may take 4 + 5 more
    expect(c.state).toBe('connecting');
    t.made[0]!.welcome();
    expect(c.rung).toBe('ws');
    expect(t.made[1]!.closed).toBeDefined();
    expect(c.attempts.map((a) => [a.rung, a.outcome]).sort()).toEqual([['sse', 'abandoned'], ['ws', 'verified']]);
    c.close();
  });

  test('upgrade hangs: the held HTTP rung wins once WebSocket is later than its time', async () => {
    const { c, t } = setup();
    await vi.advanceTimersByTimeAsync(8);
    t.made[1]!.greet().welcome(); // 8 ms: WebSocket should have opened by 8 + 2 ms
    await vi.advanceTimersByTimeAsync(1);
    expect(c.state).toBe('connecting');
    await vi.advanceTimersByTimeAsync(2); // the due time, and one more turn of the event loop
    expect(c.rung).toBe('sse');
    expect(c.attempts.find((a) => a.rung === 'ws')).toMatchObject({ outcome: 'abandoned', reason: 'WF_OPEN_TIMEOUT' });
    // No evidence against ws (maybe only slow): the first climb comes 4·8 + 100 ms after the win.
    await vi.advanceTimersByTimeAsync(131);
    expect(rungs(t)).toEqual(['ws', 'sse']);
    await vi.advanceTimersByTimeAsync(1);
    expect(rungs(t)).toEqual(['ws', 'sse', 'ws']);
    t.last().greet().welcome({ resumed: true });
    expect(c.rung).toBe('ws');
    c.close();
  });

  test('frames dropped after the 101: silence for as long again as the opening took, and the slack, decides', async () => {
    const { c, t, storage } = setup();
    await vi.advanceTimersByTimeAsync(3);
    t.made[0]!.open(); // 101 after 3 ms, then nothing
    await vi.advanceTimersByTimeAsync(2);
    t.made[1]!.greet().welcome(); // sse verified in 5 ms: WebSocket should have greeted by 3 + 3 + 2
    await vi.advanceTimersByTimeAsync(2);
    expect(c.state).toBe('connecting');
    await vi.advanceTimersByTimeAsync(2);
    expect(c.rung).toBe('sse');
    expect(c.attempts.find((a) => a.rung === 'ws')).toMatchObject({ outcome: 'abandoned', reason: 'WF_NO_DATA' });
    // Opened and silent while sse did a whole round trip: evidence, so the next page load starts on sse.
    expect([...storage.map.values()].map((v) => JSON.parse(v).rung)).toEqual(['sse']);
    c.close();
  });

  test('a 101 slowed by load waits for its greeting no longer than the HTTP rung took for its round trip', async () => {
    const { c, t } = setup();
    await vi.advanceTimersByTimeAsync(5);
    t.made[1]!.greet().welcome(); // sse verified in 5 ms: WebSocket due open by 5 + 2
    setTimeout(() => t.made[0]!.open(), 2); // the 101 handled in the due timer's turn, after 7 ms
    await vi.advanceTimersByTimeAsync(8);
    expect(c.state).toBe('connecting'); // greeted by 7 + min(7, 5) + 2, not 7 + 7 + 2
    await vi.advanceTimersByTimeAsync(2);
    expect(c.rung).toBe('sse');
    expect(c.attempts.find((a) => a.rung === 'ws')).toMatchObject({ outcome: 'abandoned', reason: 'WF_NO_DATA' });
    c.close();
  });

  test('a greeting a few ms behind the 101 (a busy machine) still keeps WebSocket', async () => {
    const { c, t } = setup();
    await vi.advanceTimersByTimeAsync(3);
    t.made[1]!.greet().welcome(); // sse verified in 3 ms
    await vi.advanceTimersByTimeAsync(1);
    t.made[0]!.open(); // the 101 after 4 ms: within 3 + 2
    await vi.advanceTimersByTimeAsync(4);
    t.made[0]!.greet(); // 4 ms later: within the HTTP round trip (3 ms, shorter than the opening) + 2
    await vi.advanceTimersByTimeAsync(7);
    expect(c.state).toBe('connecting'); // the welcome may take the HTTP rung's time + 5 ms (a busy server)
    t.made[0]!.welcome();
    expect(c.rung).toBe('ws');
    c.close();
  });

  test('a 101 that arrived as the due time passed (queued behind the timer) still keeps WebSocket', async () => {
    const { c, t } = setup();
    await vi.advanceTimersByTimeAsync(8);
    t.made[1]!.greet().welcome(); // sse verified in 8 ms: WebSocket due open by 8 + 2
    // The 101 is handled in the same turn as the due timer, after it (a busy event loop runs
    // its timers first): the verdict waits one more turn and sees it.
    setTimeout(() => t.made[0]!.open(), 2);
    await vi.advanceTimersByTimeAsync(2);
    expect(c.state).toBe('connecting');
    t.made[0]!.greet().welcome();
    expect(c.rung).toBe('ws');
    c.close();
  });

  test('a lower rung verifying while HTTP is held does not win over it', async () => {
    const { c, t } = setup();
    await vi.advanceTimersByTimeAsync(251); // ws silent past the stagger: long-polling starts too
    expect(rungs(t)).toEqual(['ws', 'sse', 'longpoll']);
    t.made[1]!.greet().welcome(); // sse verified in 251 ms: held while ws may still open
    await vi.advanceTimersByTimeAsync(1);
    t.made[2]!.greet().welcome(); // long-polling verified too: sse is better, and stays held
    expect(c.state).toBe('connecting');
    expect(t.made[2]!.closed).toBeDefined();
    await vi.advanceTimersByTimeAsync(70); // ws later than 251 + 2 ms
    expect(c.rung).toBe('sse');
    expect(c.attempts.map((a) => [a.rung, a.outcome])).toEqual([['ws', 'abandoned'], ['sse', 'verified'], ['longpoll', 'abandoned']]);
    c.close();
  });

  test('WebSocket refused while HTTP is held: HTTP wins at once', async () => {
    const { c, t } = setup();
    t.made[1]!.greet().welcome();
    expect(c.state).toBe('connecting');
    t.made[0]!.fail({ code: 'WF_REFUSED', message: 'HTTP 403', status: 403 });
    expect(c.rung).toBe('sse');
    c.close();
  });
});

describe('no early HTTP rung when warm', () => {
  test('a remembered rung (WebSocket or lower) starts alone', async () => {
    const first = setup();
    first.t.made[0]!.greet().welcome();
    first.c.close();
    const warm = setup(first.storage);
    expect(rungs(warm.t)).toEqual(['ws']);
    warm.c.close();
  });

  test('reconnects (a session exists) start alone too', async () => {
    const { c, t } = setup();
    t.made[0]!.greet().welcome();
    t.made[0]!.fail({ code: 'WF_DISCONNECTED', message: 'cut' });
    await vi.advanceTimersByTimeAsync(10);
    expect(rungs(t)).toEqual(['ws', 'sse', 'ws']);
    c.close();
  });
});

describe('per-rung backoff', () => {
  test('a rung refused moments ago is not asked again on reconnect; the climb brings it back', async () => {
    const { c, t } = setup();
    t.made[0]!.fail({ code: 'WF_REFUSED', message: 'HTTP 403', status: 403 });
    t.made[1]!.greet().welcome();
    expect(c.rung).toBe('sse');
    t.made[1]!.fail({ code: 'WF_DISCONNECTED', message: 'cut' });
    await vi.advanceTimersByTimeAsync(10);
    expect(rungs(t)).toEqual(['ws', 'sse', 'sse']); // the reconnect skips the refused ws
    t.last().greet().welcome({ resumed: true });
    expect(c.rung).toBe('sse');
    await vi.advanceTimersByTimeAsync(3000);
    expect(rungs(t)).toEqual(['ws', 'sse', 'sse', 'ws']); // the climb, 3 s after the fall
    c.close();
  });
});
