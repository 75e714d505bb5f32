import { afterEach, beforeEach, expect, test, vi } from 'vitest';
import { fakeClient } from '../support/fake-client';

// The welcome's `hb` paces the client's own ping and bounds its silence (2·hb). A welcome with an
// hour's `hb` (a broken server, a typo in its options) meant no ping of ours for an hour and no
// stall for two: an idle client on a dead link noticed nothing. The client now trusts `hb` up to a
// minute: past that it pings on its own every minute, and a silent server is found by the ping's
// answer deadline (docs/protocol.md §5).

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

test("a welcome's heartbeat of an hour: an idle client pings within a minute, and finds the silent server dead", async () => {
  const s = fakeClient({ transports: ['ws'] });
  s.t.last().greet().welcome({ hb: 3_600_000 });
  await vi.advanceTimersByTimeAsync(0);
  expect(s.c.state).toBe('open');
  const pings = () => s.t.made[0]!.frames.filter((f) => f.t === 'ping').length;
  await vi.advanceTimersByTimeAsync(59_000);
  expect(pings()).toBe(0);
  expect(s.errors).toEqual([]);
  // The server never answers: our ping at 60 s, then the 2 s answer deadline.
  await vi.advanceTimersByTimeAsync(3_100);
  expect(pings()).toBe(1);
  expect(s.errors.map((e) => e.code)).toEqual(['WF_STALLED']);
  expect(s.c.state).not.toBe('open');
  s.c.close();
});

test('a heartbeat of up to a minute is the server\'s to choose: 60 s pings come from the server, not us', async () => {
  const s = fakeClient({ transports: ['ws'] });
  s.t.last().greet().welcome({ hb: 60_000 });
  await vi.advanceTimersByTimeAsync(0);
  // The server pings a moment before each minute; we answer with our pong and our own ping in one
  // write, and the server answers that.
  for (let i = 0; i < 5; i++) {
    await vi.advanceTimersByTimeAsync(59_900);
    s.t.last().receive({ t: 'ping' });
    await vi.advanceTimersByTimeAsync(0);
    const ping = s.t.last().frames.filter((f) => f.t === 'ping').at(-1);
    s.t.last().receive({ t: 'pong', n: ping!.n });
  }
  // One ping of ours per server ping: none of our own timer's.
  expect(s.t.last().frames.filter((f) => f.t === 'ping')).toHaveLength(5);
  expect(s.errors).toEqual([]);
  expect(s.c.state).toBe('open');
  s.c.close();
});
