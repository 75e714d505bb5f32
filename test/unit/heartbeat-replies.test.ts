import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { fakeClient } from '../support/fake-client';

// A server ping's `q` (docs/protocol.md §5): on the HTTP rungs each answer is a request, so the
// server asks for one (`q: 0`) only when it has not heard from the client lately, and says so
// (`q: 1`) otherwise. Without `q` (WebSocket, older servers) every ping is answered.

const flush = () => vi.advanceTimersByTimeAsync(0);

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

async function open() {
  const s = fakeClient({ transports: ['ws'] });
  s.t.last().greet().welcome();
  await flush();
  return s;
}

type Frame = { t: string; n?: number };

/**
 * Sends one server ping per entry of `qs` (undefined: no `q`), `every` ms apart (by default a
 * moment before the client's own timer of one interval), answering the client's own pings;
 * returns the frame types the client wrote after each.
 */
async function beat(s: Awaited<ReturnType<typeof open>>, qs: (number | undefined)[], every = 4990): Promise<string[][]> {
  const out: string[][] = [];
  for (const q of qs) {
    await vi.advanceTimersByTimeAsync(every);
    const before = s.t.last().sent.length;
    s.t.last().receive({ t: 'ping', ...(q !== undefined && { q }) });
    await flush();
    const written = s.t.last().sent.slice(before).flatMap((t) => [JSON.parse(t)].flat() as Frame[]);
    out.push(written.map((f) => f.t));
    for (const f of written) if (f.t === 'ping') s.t.last().receive({ t: 'pong', n: f.n });
  }
  return out;
}

describe('answers to server pings', () => {
  test('without q (WebSocket, an older server) every ping is answered, our ping in the same write', async () => {
    const s = await open();
    expect(await beat(s, [undefined, undefined, undefined])).toEqual([['pong', 'ping'], ['pong', 'ping'], ['pong', 'ping']]);
    expect(s.errors).toEqual([]);
    s.c.close();
  });

  test('q 1: no answer and no ping of ours; q 0: answered as before', async () => {
    const s = await open();
    expect(await beat(s, [0, 1, 0, 1, 1, 0])).toEqual([['pong', 'ping'], [], ['pong', 'ping'], [], [], ['pong', 'ping']]);
    expect(s.c.rtt).toBe(0);
    expect(s.errors).toEqual([]);
    expect(s.c.state).toBe('open');
    s.c.close();
  });

  test('after a ping with q, a server ping up to half a beat late costs no ping of ours', async () => {
    const s = await open();
    await beat(s, [0]);
    const before = s.t.last().sent.length;
    expect(await beat(s, [1, 1, 1], 7400)).toEqual([[], [], []]);
    expect(s.t.last().sent.length).toBe(before);
    expect(s.errors).toEqual([]);
    s.c.close();
  });

  test('without q the own ping comes one interval after the last server ping', async () => {
    const s = await open();
    await beat(s, [undefined]);
    await vi.advanceTimersByTimeAsync(5001);
    expect(s.t.last().frames.filter((f) => f.t === 'ping')).toHaveLength(2);
    s.c.close();
  });

  test('a server gone silent after quiet pings is found within 10 s (our own ping at 1.5 beats, then the answer deadline)', async () => {
    const s = await open();
    await beat(s, [0, 1, 1]);
    let lostAfter = 0;
    const start = Date.now();
    s.c.on('state', (st) => st === 'reconnecting' && (lostAfter = Date.now() - start));
    await vi.advanceTimersByTimeAsync(15_000);
    expect(s.errors[0]).toMatchObject({ code: 'WF_STALLED' });
    expect(lostAfter).toBeGreaterThan(0);
    expect(lostAfter).toBeLessThanOrEqual(9600); // our ping at 7.5 s + the 2 s answer deadline
    s.c.close();
  });

  test('quiet pings do not hide a message in flight: its ack is due within the answer deadline', async () => {
    const s = await open();
    await beat(s, [0, 1]);
    void s.c.send('say', { text: 'hello?' }).catch(() => {});
    await vi.advanceTimersByTimeAsync(1000);
    s.t.last().receive({ t: 'ping', q: 1 });
    await vi.advanceTimersByTimeAsync(999);
    expect(s.errors).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(2);
    expect(s.errors[0]).toMatchObject({ code: 'WF_UPLINK_STALLED' });
    s.c.close();
  });
});
