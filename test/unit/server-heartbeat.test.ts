import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { Heartbeat } from '../../src/server/heartbeat';

// The server's heartbeat (src/server/heartbeat.ts): whether a ping asks for an answer, and when
// a silent client is given up.

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** A 5 s heartbeat whose client answers the pings that ask, `delay` ms later (never if undefined). */
function run(beats?: number, delay?: number) {
  const hb = new Heartbeat(5000);
  const pings: boolean[] = [];
  let silentAt = 0;
  const t0 = Date.now();
  hb.start(
    (lately) => {
      pings.push(lately);
      if (!lately && delay !== undefined) setTimeout(() => hb.seen(), delay);
    },
    () => ((silentAt ||= Date.now() - t0), hb.stop()),
    beats,
  );
  return { hb, pings, silentAt: () => silentAt };
}

describe('server heartbeat', () => {
  test('the first ping always asks; later ones ask only once the client was silent for 1.5 beats', async () => {
    const r = run();
    await vi.advanceTimersByTimeAsync(9000);
    r.hb.seen(); // a poll or a POST, 1 s before the second beat
    await vi.advanceTimersByTimeAsync(11_000);
    expect(r.pings).toEqual([false, true, true, false]); // silent 1, 6, then 11 s
    r.hb.stop();
  });

  test('a client that polls every beat is never asked again', async () => {
    const r = run();
    for (let i = 0; i < 12; i++) {
      await vi.advanceTimersByTimeAsync(5000);
      r.hb.seen(); // the re-poll right after the ping answered the held one
    }
    expect(r.pings).toEqual([false, ...Array(11).fill(true)]);
    expect(r.silentAt()).toBe(0);
    r.hb.stop();
  });

  test.each([0, 1200, 3000])('a client that answers only when asked, %i ms late, is asked every second beat and kept (three beats)', async (delay) => {
    const r = run(3, delay);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(r.silentAt()).toBe(0);
    expect(r.pings.filter((lately) => !lately).length).toBeLessThanOrEqual(7); // 12 beats
    r.hb.stop();
  });

  test('a client silent past the bound is given up: two beats and a second by default, three and a second for SSE', async () => {
    const two = run();
    const three = run(3);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(two.silentAt()).toBe(15_000); // the first check past 11 s of silence
    expect(two.pings).toEqual([false, false]);
    expect(three.silentAt()).toBe(20_000); // past 16 s
  });
});
