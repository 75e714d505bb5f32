import { afterEach, beforeEach, expect, test, vi } from 'vitest';
import { connect } from '../../src/index';
import { fakeClient } from '../support/fake-client';

/*
 * `whenWritable()` resolves "when the outbox is below half its high-water mark (at once if it
 * is)". The outbox also empties without an ack frame: a resume's welcome acknowledges what the
 * cut link's acks did not say, a lost session drops what was written, `close()` rejects it all.
 * A producer awaiting `whenWritable()` there must go on: nothing else would ever wake it.
 */
const flush = () => vi.advanceTimersByTimeAsync(0);

beforeEach(() => void vi.useFakeTimers());
afterEach(() => void vi.useRealTimers());

async function filled(opts: Parameters<typeof connect>[1] = {}) {
  const s = fakeClient({ transports: ['ws'], outbox: { highWaterBytes: 100 }, ...opts });
  s.t.last().greet().welcome();
  await flush();
  const events: boolean[] = [];
  s.c.on('backpressure', (high) => events.push(high));
  for (let i = 0; i < 5; i++) void s.c.send('say', { text: 'y'.repeat(20) }).catch(() => {});
  await flush(); // written: five messages await their ack
  let writable = false;
  void s.c.whenWritable().then(() => (writable = true));
  await flush();
  expect(events).toEqual([true]);
  expect(writable).toBe(false);
  return { ...s, events, writable: () => writable };
}

test('a resume whose welcome acknowledges everything releases whenWritable', async () => {
  const f = await filled();
  f.t.last().fail({ code: 'WF_DISCONNECTED', message: 'cut' });
  await vi.advanceTimersByTimeAsync(5_000); // the backoff, then the resume
  f.t.last().greet().welcome({ resumed: true, ack: 5 });
  await flush();
  expect(f.c.buffered.messages).toBe(0);
  expect(f.events).toEqual([true, false]);
  expect(f.writable()).toBe(true);
  f.c.close();
});

test('a lost session that dropped the written messages releases whenWritable', async () => {
  const f = await filled();
  f.t.last().fail({ code: 'WF_DISCONNECTED', message: 'cut' });
  await vi.advanceTimersByTimeAsync(5_000);
  f.t.last().greet().welcome({ sid: 's2', resumed: false });
  await flush();
  expect(f.c.buffered.messages).toBe(0);
  expect(f.writable()).toBe(true);
  f.c.close();
});

test('close() releases whenWritable, and a later call resolves at once', async () => {
  const f = await filled();
  f.c.close();
  await flush();
  expect(f.writable()).toBe(true);
  let later = false;
  void f.c.whenWritable().then(() => (later = true));
  await flush();
  expect(later).toBe(true);
});
