import { afterEach, beforeEach, expect, test, vi } from 'vitest';
import { createBatcher } from '../../src/protocol/batcher';
import { encodeFrame } from '../../src/protocol/encode';
import { Inbox } from '../../src/protocol/inbox';
import { Outbox } from '../../src/protocol/outbox';

// The batching both sides use (client live link and server session).

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

function setup(slice = 1 << 20) {
  const inbox = new Inbox();
  const outbox = new Outbox({ maxMessages: 1000, maxBytes: 1 << 20 });
  const written: unknown[] = [];
  const sent: boolean[] = [];
  let linked = true;
  const clock = { now: () => Date.now(), setTimeout: (fn: () => void, ms: number) => setTimeout(fn, ms), clearTimeout: (h: unknown) => clearTimeout(h as never) };
  const b = createBatcher({
    clock, inbox, outbox, slice: () => slice,
    link: () => (linked ? { send: (t: string) => void written.push(JSON.parse(t)) } : undefined),
    sent: (idle) => void sent.push(idle),
  });
  return { b, inbox, outbox, written, sent, unlink: () => (linked = false) };
}

test('control frames, the cumulative ack and unsent messages of one tick leave as one transport message', async () => {
  const { b, inbox, outbox, written, sent } = setup();
  inbox.accept(1);
  inbox.accept(2);
  b.push(encodeFrame.pong(7));
  void outbox.push('a', '1');
  b.schedule();
  void outbox.push('b', '2');
  b.schedule();
  expect(written).toEqual([]);
  await Promise.resolve();
  expect(written).toEqual([[{ t: 'pong', n: 7 }, { t: 'ack', a: 2 }, { t: 'msg', s: 1, ev: 'a', d: 1 }, { t: 'msg', s: 2, ev: 'b', d: 2 }]]);
  expect(sent).toEqual([true]); // nothing was in flight before: a deadline starts
});

test('a lone ack waits 20 ms, so a burst of arrivals costs one ack', async () => {
  const { b, inbox, written } = setup();
  for (let s = 1; s <= 3; s++) {
    inbox.accept(s);
    b.ackSoon();
    await vi.advanceTimersByTimeAsync(5);
  }
  expect(written).toEqual([]);
  await vi.advanceTimersByTimeAsync(5);
  expect(written).toEqual([{ t: 'ack', a: 3 }]);
});

test('an ack rides along with an earlier write and its timer is cancelled', async () => {
  const { b, inbox, outbox, written } = setup();
  inbox.accept(1);
  b.ackSoon();
  void outbox.push('a', '1');
  b.schedule();
  await vi.advanceTimersByTimeAsync(50);
  expect(written).toEqual([[{ t: 'ack', a: 1 }, { t: 'msg', s: 1, ev: 'a', d: 1 }]]);
});

test('a long burst leaves in slices, one per tick', async () => {
  const { b, outbox, written } = setup(40);
  for (let i = 0; i < 6; i++) void outbox.push('m', '"0123456789"');
  b.flush();
  expect(written).toHaveLength(1);
  await vi.advanceTimersByTimeAsync(0);
  // Payloads of 12 bytes, slices of 40: three messages a write.
  expect((written as unknown[][]).map((w) => w.length)).toEqual([3, 3]);
  expect(written.flat().map((f) => (f as { s: number }).s)).toEqual([1, 2, 3, 4, 5, 6]);
});

test('without a link nothing is written, and stop() forgets control frames and the pending ack', async () => {
  const { b, inbox, outbox, written, unlink } = setup();
  unlink();
  void outbox.push('a', '1');
  b.schedule();
  await vi.advanceTimersByTimeAsync(50);
  expect(written).toEqual([]);
  const s2 = setup();
  s2.inbox.accept(1);
  s2.b.ackSoon();
  s2.b.push(encodeFrame.ping(1));
  s2.b.stop();
  await vi.advanceTimersByTimeAsync(50);
  expect(s2.written).toEqual([]);
  expect(inbox.received).toBe(0);
});

test('to a peer that reads them (`pa`), the ack rides in the first message; with no message it goes alone', async () => {
  const { b, inbox, outbox, written } = setup();
  b.pa = true;
  inbox.accept(1);
  b.push(encodeFrame.pong(7));
  void outbox.push('a', '1');
  void outbox.push('b', '2');
  b.schedule();
  await Promise.resolve();
  expect(written).toEqual([[{ t: 'pong', n: 7 }, { t: 'msg', a: 1, s: 1, ev: 'a', d: 1 }, { t: 'msg', s: 2, ev: 'b', d: 2 }]]);
  inbox.accept(2);
  b.flush();
  expect(written[1]).toEqual({ t: 'ack', a: 2 });
  // Bytes inside: the ack rides there too, and the frame stays one the binary form rewrites.
  inbox.accept(3);
  void outbox.push('c', '{"$b":"AAE="}', true, undefined, 'b64');
  b.flush();
  expect(written[2]).toEqual({ t: 'msg', a: 3, s: 3, ev: 'c', d: { $b: 'AAE=' }, e: 'b64' });
});
