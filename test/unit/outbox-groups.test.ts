import { expect, test } from 'vitest';
import { WirefallError } from '../../src/protocol/errors';
import { Outbox } from '../../src/protocol/outbox';

/*
 * The sends queued between two writes share one promise (src/protocol/outbox.ts, `push`): it
 * resolves only once its last message is acknowledged, and writes are never cut inside a group,
 * so a peer acknowledging whole transport messages settles each group exactly when each message
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
  const o = new Outbox(big);
  const a = [o.push('m', '1'), o.push('m', '2'), o.push('m', '3')];
  expect(a[1]).toBe(a[0]);
  expect(a[2]).toBe(a[0]);
  expect(seqs(o.takeUnsent(1000, 0))).toEqual([1, 2, 3]);
  // The write closed the group: the next message starts another.
  const b = o.push('m', '4');
  expect(b).not.toBe(a[0]);
  o.ack(2, 1);
  expect(await state(a[0]!)).toBe('pending');
  o.ack(3, 2);
  expect(await state(a[0]!)).toBe('resolved');
  expect(await state(b)).toBe('pending');
  o.takeUnsent(1000, 3);
  o.ack(4, 4);
  expect(await state(b)).toBe('resolved');
  expect(o.q.length).toBe(0);
  expect(o.bytes).toBe(0);
});

test('a group holds at most 16 KiB of payloads; fire-and-forget messages and solo outboxes have none', () => {
  const o = new Outbox(big);
  const d = `"${'x'.repeat(8190)}"`; // 8,192 bytes
  const ps = [o.push('m', d), o.push('m', d), o.push('m', d)];
  expect(ps[1]).toBe(ps[0]);
  expect(ps[2]).not.toBe(ps[1]);

  const f = new Outbox(big);
  const p = f.push('m', '1');
  void f.push('m', '2', false);
  expect(f.push('m', '3')).not.toBe(p);

  const solo = new Outbox(big);
  solo.group = 0;
  expect(solo.push('m', '1')).not.toBe(solo.push('m', '2'));
});

test('a write is cut between groups, never inside one, when the budget ends in the middle of a group', () => {
  const o = new Outbox(big);
  for (const d of ['1', '2', '3']) void o.push('m', d);
  o.takeUnsent(1000, 0);
  // A new link: all of it is written again; a group once written takes no new members.
  o.rewind();
  for (const d of ['4', '5', '6', '7']) void o.push('m', d);
  // A budget of 5 would end inside the second group (1–3, then 4–7): only the first goes.
  expect(seqs(o.takeUnsent(5, 0))).toEqual([1, 2, 3]);
  expect(seqs(o.takeUnsent(5, 0))).toEqual([4, 5, 6, 7]);
  // A first group over the budget goes in parts rather than never.
  for (const d of ['8', '9', '10']) void o.push('m', d);
  expect(seqs(o.takeUnsent(2, 0))).toEqual([8, 9]);
  expect(seqs(o.takeUnsent(2, 0))).toEqual([10]);
  // Without promises, a write is cut anywhere.
  for (const d of ['1', '2', '3']) void o.push('m', d, false);
  expect(seqs(o.takeUnsent(2, 0))).toEqual([11, 12]);
});

test('a group acknowledged in part when the session ends rejects: delivery is then unknown', async () => {
  const o = new Outbox(big);
  const p = o.push('m', '1');
  void o.push('m', '2');
  o.takeUnsent(1000, 0);
  o.ack(1, 1);
  o.rejectAll(new WirefallError('WF_CLOSED', 'ended'));
  await expect(p).rejects.toMatchObject({ code: 'WF_CLOSED' });
});

test('a lost session rejects the written groups and renumbers the unwritten ones, which keep their promise', async () => {
  const o = new Outbox(big);
  const written = o.push('m', '1');
  void o.push('m', '2');
  o.takeUnsent(1000, 0);
  const kept = o.push('m', '3');
  void o.push('m', '4');
  const lost = o.restart(new WirefallError('WF_SESSION_LOST', 'lost'));
  expect(lost.map((e) => e.s)).toEqual([1, 2]);
  await expect(written).rejects.toMatchObject({ code: 'WF_SESSION_LOST' });
  expect(seqs(o.takeUnsent(1000, 0))).toEqual([1, 2]);
  o.ack(2, 1);
  expect(await state(kept)).toBe('resolved');
});

test('a full outbox rejects the message and leaves the open group as it was', async () => {
  const o = new Outbox({ maxMessages: 2, maxBytes: 100 });
  const p = o.push('m', '1');
  expect(o.push('m', '2')).toBe(p);
  await expect(o.push('m', '3')).rejects.toMatchObject({ code: 'WF_OUTBOX_FULL' });
  o.takeUnsent(1000, 0);
  o.ack(2, 1);
  expect(await state(p)).toBe('resolved');
});

test('a lost session loses a group written in part whole: its promise rejects, and its unwritten tail is not resent', async () => {
  const o = new Outbox(big);
  const p = o.push('m', '1');
  void o.push('m', '2');
  void o.push('m', '3');
  // A budget below the group's bytes: it goes in parts.
  expect(seqs(o.takeUnsent(2, 0))).toEqual([1, 2]);
  const later = o.push('m', '4'); // a group written in part takes no new members
  expect(later).not.toBe(p);
  const lost = o.restart(new WirefallError('WF_SESSION_LOST', 'lost'));
  expect(lost.map((e) => e.s)).toEqual([1, 2, 3]);
  await expect(p).rejects.toMatchObject({ code: 'WF_SESSION_LOST' });
  expect(seqs(o.takeUnsent(1000, 0))).toEqual([1]);
  o.ack(1, 1);
  expect(await state(later)).toBe('resolved');
});
