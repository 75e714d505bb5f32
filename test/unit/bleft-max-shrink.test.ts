import { expect, test } from 'vitest';
import { clientSession } from '../../src/core/client-session';
import { resolveTimings } from '../../src/core/options';
import type { WelcomeFrame } from '../../src/protocol/frames';

/*
 * A rolling deploy lowers `maxMessageBytes`: the new server's welcome says so (`max`). A message
 * queued or unacknowledged under the old limit and over the new one used to be refused on every
 * resume, for ever, holding back all behind it. Now it fails alone (WF_TOO_LARGE) and goes as a
 * `$skip` under its number, so that the server sees no gap (docs/protocol.md §4).
 */
const welcome = (w: Partial<WelcomeFrame>): WelcomeFrame => ({ t: 'welcome', v: 3, sid: 's1', key: 'k1', hb: 5000, ack: 0, resumed: false, max: 1 << 20, ...w });
const big = { pad: 'x'.repeat(100_000) };

test('a resumed welcome with a smaller max: the message over it fails alone and keeps its number as $skip', async () => {
  const s = clientSession(resolveTimings({}), undefined, () => {});
  expect(s.welcome(welcome({}), 0)).toBeUndefined();
  const first = s.push('say', { n: 1 });
  await Promise.resolve(); // a new tick: no group shares the next send's promise
  const large = s.push('say', big).then(() => 'acked', (e: { code: string }) => e.code);
  await Promise.resolve();
  const last = s.push('say', { n: 3 });
  // Written on the old server's link, none acknowledged.
  expect(s.outbox.takeUnsent(1 << 20, 1)).toHaveLength(3);
  const before = s.outbox.bytes;
  expect(s.welcome(welcome({ resumed: true, ack: 0, max: 64 * 1024 }), 2)).toBeUndefined();
  expect(await large).toBe('WF_TOO_LARGE');
  expect(s.outbox.q.map((e) => [e.s, e.ev, e.payload.length])).toEqual([[1, 'say', 7], [2, '$skip', 1], [3, 'say', 7]]);
  expect(s.outbox.bytes).toBe(before); // counted as queued until acknowledged, as ever
  // All three are written again, in order, on the new link; its ack settles the two that went.
  const frames = s.outbox.takeUnsent(1 << 20, 3).join('');
  expect(frames).toContain('"ev":"$skip"');
  expect(frames).not.toContain('xxxx');
  expect(s.outbox.ack(3, 4)).toBe(true);
  await expect(first).resolves.toBeUndefined();
  await expect(last).resolves.toBeUndefined();
  expect(s.outbox.q).toEqual([]);
  expect(s.outbox.bytes).toBe(0);
});

test('a message sharing its tick\'s promise rejects that promise; the others still go', async () => {
  const s = clientSession(resolveTimings({}), undefined, () => {});
  s.welcome(welcome({}), 0);
  const a = s.push('say', { n: 1 });
  const b = s.push('say', { pad: 'y'.repeat(9000) });
  expect(a).toBe(b); // one group
  s.welcome(welcome({ resumed: true, max: 4096 }), 1);
  await expect(a).rejects.toMatchObject({ code: 'WF_TOO_LARGE' });
  expect(s.outbox.q.map((e) => e.ev)).toEqual(['say', '$skip']);
  expect(s.outbox.ack(2, 2)).toBe(true);
});

test('a message within the new max is untouched', () => {
  const s = clientSession(resolveTimings({}), undefined, () => {});
  s.welcome(welcome({}), 0);
  void s.push('say', big);
  s.welcome(welcome({ resumed: true, max: 200_000 }), 1);
  expect(s.outbox.q.map((e) => e.ev)).toEqual(['say']);
});
