import { afterEach, beforeEach, expect, test, vi } from 'vitest';
import { fakeClient } from '../support/fake-client';

/*
 * The answer deadline (2 s) is for a conversation's answers, not for the time a large write
 * takes to leave a slow uplink: 300 KB at 64 KB/s (a phone's uplink) is 4.7 s before the server
 * has the message and can acknowledge it. Judged by 2 s alone, such a message was never delivered
 * (SSE) or only after several reconnects that each sent it again from the start (WebSocket):
 * measured through a throttling proxy (test/integration/bcli-slow-uplink.test.ts).
 */
beforeEach(() => void vi.useFakeTimers());
afterEach(() => void vi.useRealTimers());

async function open() {
  const s = fakeClient({ transports: ['ws'] });
  s.t.last().greet().welcome({ max: 1 << 20 });
  await vi.advanceTimersByTimeAsync(0);
  return s;
}

/** How long until the client judged its uplink stalled (ms, in steps of 500), the server's pings arriving meanwhile. */
async function stalledAfter({ t, errors }: Awaited<ReturnType<typeof open>>, limit: number): Promise<number> {
  let ms = 0;
  for (; ms < limit && !errors.length; ms += 500) {
    await vi.advanceTimersByTimeAsync(500);
    t.last().receive({ t: 'ping' });
  }
  expect(errors[0]).toMatchObject({ code: 'WF_UPLINK_STALLED' });
  return ms;
}

test('a large write gets time to leave a slow uplink: its ack after 4.7 s is no stall', async () => {
  const { c, t, errors } = await open();
  let outcome = 'pending';
  c.send('say', { text: 'x'.repeat(300_000) }).then(() => (outcome = 'ok'), (e: { code: string }) => (outcome = e.code));
  // The server's heartbeats keep arriving (the downlink is fine) while the message uploads.
  for (let ms = 0; ms < 4700; ms += 500) {
    await vi.advanceTimersByTimeAsync(500);
    t.last().receive({ t: 'ping' });
  }
  t.last().receive({ t: 'ack', a: 1 });
  await vi.advanceTimersByTimeAsync(0);
  expect(errors).toEqual([]);
  expect(outcome).toBe('ok');
  expect(t.made).toHaveLength(1);
  c.close();
});

test('a large write that never gets its ack is still a stall, within the time the slowest accepted uplink needs', async () => {
  const s = await open();
  const { c } = s;
  void c.send('say', { text: 'x'.repeat(300_000) }).catch(() => {});
  const ms = await stalledAfter(s, 30_000);
  // 2 s, and 300 KB at 32 KB/s: 11.4 s.
  expect(ms).toBeGreaterThan(11_000);
  expect(ms).toBeLessThanOrEqual(12_000);
  c.close();
});

test("the allowance counts at most one write (the welcome's max): a swallowed uplink with more held is still found", async () => {
  const s = await open();
  const { c } = s;
  // 3.2 MB held (sixteen 200 KB messages); the server takes 1 MiB per transport message (`max`),
  // and the oldest message's ack comes with its own: 2 s + 1 MiB at 32 KB/s ≈ 34.8 s at most.
  for (let i = 0; i < 16; i++) void c.send('say', { text: 'x'.repeat(200_000) }).catch(() => {});
  const ms = await stalledAfter(s, 120_000);
  expect(ms).toBeGreaterThan(30_000);
  expect(ms).toBeLessThanOrEqual(35_500);
  c.close();
});
