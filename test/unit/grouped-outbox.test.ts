import { expect, test } from 'vitest';
import { WirefallError } from '../../src/protocol/errors';
import { GROUP, GroupedOutbox } from '../../src/server/grouped-outbox';

/*
 * A server session's `send`s queued between two writes share one promise (src/server/grouped-outbox.ts):
 * it resolves only once its last message is acknowledged, and writes are never cut inside a group,
 * so a client acknowledging whole transport messages settles each group exactly when each message
 * would have been settled on its own.
 */
const big = { maxMessages: 100_000, maxBytes: 1 << 30 };
const seqs = (frames: string[]) => frames.map((t) => JSON.parse(t).s as number);
/** The state of a promise after the pending reactions ran. */
const state = async (p: Promise<void>) => {
  let s = 'pending';
  p.then(() => (s = 'resolved'), () => (s = 'rejected'));
  await new Promise((r) => setImmediate(r));
  return s;
};

test('messages queued between two writes share a promise that resolves with the last one acknowledged', async () => {
  const o = new GroupedOutbox(big);
  const a = [o.pushShared('m', '1', 1), o.pushShared('m', '2', 1), o.pushShared('m', '3', 1)];
  expect(a[1]).toBe(a[0]);
  expect(a[2]).toBe(a[0]);
  expect(seqs(o.takeUnsent(1000, 0))).toEqual([1, 2, 3]);
  // The write closed the group: the next message starts another.
  const b = o.pushShared('m', '4', 1);
  expect(b).not.toBe(a[0]);
  o.ack(2, 1);
  expect(await state(a[0]!)).toBe('pending');
  o.ack(3, 2);
  expect(await state(a[0]!)).toBe('resolved');
  expect(await state(b)).toBe('pending');
  o.takeUnsent(1000, 3);
  o.ack(4, 4);
  expect(await state(b)).toBe('resolved');
  expect(o.size).toBe(0);
  expect(o.bytes).toBe(0);
});

test('a group is at most GROUP messages and at most the write budget in bytes', () => {
  const o = new GroupedOutbox(big);
  const ps = Array.from({ length: GROUP + 1 }, () => o.pushShared('m', '1', 1));
  expect(new Set(ps).size).toBe(2);
  expect(ps[GROUP]).not.toBe(ps[GROUP - 1]);

  const small = new GroupedOutbox(big, 10);
  const qs = ['"aaaa"', '"bbbb"', '"cc"'].map((d) => small.pushShared('m', d, d.length));
  // 6 + 6 bytes is over 10: the second starts a group, which the third (4 bytes) joins.
  expect(qs[1]).not.toBe(qs[0]);
  expect(qs[2]).toBe(qs[1]);
});

test('a write is cut between groups, never inside one, when the budget ends in the middle of a group', () => {
  const o = new GroupedOutbox(big, 6);
  for (const d of ['1', '2', '3']) o.pushShared('m', d, 1); // one group, 3 bytes
  o.takeUnsent(1000, 0);
  // A new link: all of it is written again; a group once written takes no new members.
  o.rewind();
  for (const d of ['4', '5', '6', '7']) o.pushShared('m', d, 1);
  // A budget of 5 would end inside the second group (1–3, then 4–7): only the first goes.
  expect(seqs(o.takeUnsent(5, 0))).toEqual([1, 2, 3]);
  expect(seqs(o.takeUnsent(5, 0))).toEqual([4, 5, 6, 7]);
});

test('a group acknowledged in part when the session ends rejects; messages without a promise are cut anywhere', async () => {
  const o = new GroupedOutbox(big);
  const p = o.pushShared('m', '1', 1);
  o.pushShared('m', '2', 1);
  o.takeUnsent(1000, 0);
  o.ack(1, 1);
  o.rejectAll(new WirefallError('WF_CLOSED', 'ended'));
  await expect(p).rejects.toMatchObject({ code: 'WF_CLOSED' });

  const f = new GroupedOutbox(big);
  for (const d of ['1', '2', '3']) void f.push('m', d, false, 1);
  expect(seqs(f.takeUnsent(2, 0))).toEqual([1, 2]);
});

test('a full outbox rejects the message and leaves the open group as it was', async () => {
  const o = new GroupedOutbox({ maxMessages: 2, maxBytes: 100 });
  const p = o.pushShared('m', '1', 1);
  expect(o.pushShared('m', '2', 1)).toBe(p);
  await expect(o.pushShared('m', '3', 1)).rejects.toMatchObject({ code: 'WF_OUTBOX_FULL' });
  o.takeUnsent(1000, 0);
  o.ack(2, 1);
  expect(await state(p)).toBe('resolved');
});
