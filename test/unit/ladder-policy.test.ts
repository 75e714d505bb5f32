import { describe, expect, test } from 'vitest';
import type { AttemptRecord } from '../../src/core/attempt';
import * as ladder from '../../src/core/ladder';
import type { RungName } from '../../src/protocol/api';

// The ladder policy as a table: pure functions of what the client saw. Ladder: wss(0) ws(1) sse(2) longpoll(3).

const order: RungName[] = ['wss', 'ws', 'sse', 'longpoll'];
const indexOf = (a: AttemptRecord) => order.indexOf(a.rung);
const L = (patch: Partial<ladder.Ladder> = {}): ladder.Ladder => ({ ...ladder.freshLadder(), ...patch });
const rec = (rung: RungName, outcome: AttemptRecord['outcome'], duration: number, reason?: AttemptRecord['reason']): AttemptRecord =>
  ({ rung, url: `x://${rung}`, startedAt: 0, duration, outcome, reason });

describe('startIndex: where a race starts', () => {
  test.each([
    ['a fresh client starts at the top', L(), undefined, 0],
    ['a page load starts at the remembered rung', L(), 2, 2],
    ['an unknown remembered rung (-1) is ignored', L(), -1, 0],
    ['a demoted floor wins over a higher memory', L({ floor: 3 }), 1, 3],
    ['the memory wins over a lower floor', L({ floor: 1 }), 2, 2],
    ['never past the last rung', L({ floor: 9 }), undefined, 3],
    ['a reconnect starts below rungs found broken while the climb is pending', L({ skip: 2, climbDue: 1000 }), undefined, 2],
  ])('%s', (_, l, remembered, want) => {
    expect(ladder.startIndex(l, remembered, order.length, 500)).toBe(want);
  });
});

describe('won: what a won race teaches the memory', () => {
  test.each<[string, ladder.Ladder, number, AttemptRecord[], ladder.MemoryAction]>([
    ['the top rung won: remember it (a warm start then skips the early HTTP rung)', L(), 0, [rec('wss', 'verified', 10)], { remember: 0 }],
    ['one above opened and stayed silent while the winner verified: frames dropped', L(), 1, [rec('wss', 'abandoned', 30, 'WF_NO_DATA'), rec('ws', 'verified', 20)], { remember: 1 }],
    ['the rungs above were refused: remember the winner', L(), 2, [rec('wss', 'failed', 5, 'WF_REFUSED'), rec('ws', 'failed', 5, 'WF_NETWORK'), rec('sse', 'verified', 20)], { remember: 2 }],
    ['one above was only cut: a cut is bad luck, not a verdict', L(), 2, [rec('wss', 'failed', 5, 'WF_REFUSED'), rec('ws', 'failed', 5, 'WF_DISCONNECTED'), rec('sse', 'verified', 20)], undefined],
    ['one above was merely slower than the winner: not remembered', L(), 1, [rec('wss', 'abandoned', 200, 'WF_OPEN_TIMEOUT'), rec('ws', 'verified', 100)], undefined],
    ['one above was greeted, its welcome slow (authenticate): not remembered', L(), 1, [rec('wss', 'abandoned', 200, 'WF_NO_WELCOME'), rec('ws', 'verified', 100)], undefined],
    ['one above still stuck > 4× the winner + 100 ms: it hangs', L(), 1, [rec('wss', 'abandoned', 501, 'WF_NO_DATA'), rec('ws', 'verified', 100)], { remember: 1 }],
    ['started below (no record above): no evidence, nothing learned', L(), 2, [rec('sse', 'verified', 10)], undefined],
    ['a better rung worked earlier in this life (server restart): not remembered', L({ best: 0 }), 2, [rec('wss', 'failed', 5, 'WF_REFUSED'), rec('ws', 'failed', 5, 'WF_REFUSED'), rec('sse', 'verified', 9)], undefined],
  ])('%s', (_, l, index, records, memory) => {
    const [next, action] = ladder.won(l, index, records, indexOf);
    expect(action).toEqual(memory);
    expect(next.best).toBe(Math.min(l.best, index));
    expect(next.last).toBe(index);
  });

  test.each([
    ['falling further down restarts the climb schedule', L({ last: 1, climbs: 3, climbDue: 99 }), 2, { climbs: 0, climbDue: 0, floor: 0 }],
    ['climbing up keeps it', L({ last: 2, climbs: 3, climbDue: 99 }), 1, { climbs: 3, climbDue: 99 }],
    ['a win above a demoted floor lifts the floor', L({ floor: 2, last: 2 }), 0, { floor: 0 }],
    ['a win above the skip lowers it (the climb brought a rung back)', L({ skip: 2, last: 2 }), 0, { skip: 0 }],
  ])('%s', (_, l, index, want) => {
    expect(ladder.won(l, index, [], indexOf)[0]).toMatchObject(want);
  });
});

describe('per-rung backoff: reconnects skip rungs refused moments ago, until the climb', () => {
  test('the rungs above refused: reconnects start at the winner until the climb is due', () => {
    const [l] = ladder.won(L(), 2, [rec('wss', 'failed', 5, 'WF_REFUSED'), rec('ws', 'failed', 5, 'WF_REFUSED'), rec('sse', 'verified', 9)], indexOf);
    expect(l.skip).toBe(2);
    const planned = ladder.climbAt(l, 1000, { first: 3000, max: 300_000 });
    expect(ladder.startIndex(planned, undefined, order.length, 3999)).toBe(2);
    expect(ladder.startIndex(planned, undefined, order.length, 4000)).toBe(0);
  });

  test('a rung that was only cut is not skipped', () => {
    const [l] = ladder.won(L(), 2, [rec('wss', 'failed', 5, 'WF_REFUSED'), rec('ws', 'failed', 5, 'WF_DISCONNECTED'), rec('sse', 'verified', 9)], indexOf);
    expect(l.skip).toBe(0);
  });

  test('a failed reconnect from the skip, or a new network, starts at the top again', () => {
    expect(ladder.raceFailed(L({ skip: 2 }), 2)[0].skip).toBe(0);
    expect(ladder.newNetwork(L({ skip: 2 }))[0].skip).toBe(0);
  });
});

describe('a rung above merely slow: the first climb comes soon', () => {
  test('abandoned with no evidence against it: climb 4x the winner + 100 ms after the fall', () => {
    const [l] = ladder.won(L(), 2, [rec('wss', 'failed', 5, 'WF_REFUSED'), rec('ws', 'abandoned', 12, 'WF_OPEN_TIMEOUT'), rec('sse', 'verified', 5)], indexOf);
    expect(l.soon).toBe(120);
    expect(ladder.climbAt(l, 1000, { first: 3000, max: 300_000 }).climbDue).toBe(1120);
    expect(ladder.climbed(l).soon).toBe(0); // then the schedule as before
  });

  test('broken above (refused, or silent after the 101): the schedule as before', () => {
    const [l] = ladder.won(L(), 1, [rec('wss', 'abandoned', 12, 'WF_NO_DATA'), rec('ws', 'verified', 5)], indexOf);
    expect(l.soon).toBe(0);
  });
});

describe('raceFailed: the start rung failed too', () => {
  test.each<[string, number, number, ladder.MemoryAction]>([
    ['from the top: nothing to unlearn', 0, 0, undefined],
    ['from a remembered or demoted rung: forget, start at the top again', 2, 0, 'forget'],
  ])('%s', (_, start, floor, memory) => {
    const [next, action] = ladder.raceFailed(L({ floor: start }), start);
    expect(next.floor).toBe(floor);
    expect(action).toBe(memory);
  });
});

describe('stalled: three stalls within a minute demote a rung', () => {
  test.each<[string, number[], number, number, ladder.MemoryAction, number]>([
    ['a first stall is noted', [], 1, 1000, undefined, 0],
    ['the third within 60 s demotes to the rung below', [1000, 30_000], 1, 59_999, { remember: 2 }, 2],
    ['stalls older than 60 s do not count', [1000, 30_000], 1, 61_000, undefined, 0],
    ['the last rung has nothing below', [1000, 2000], 3, 3000, undefined, 0],
  ])('%s', (_, stalls, index, now, memory, floor) => {
    const [next, action] = ladder.stalled(L({ stalls }), index, now, order.length);
    expect(action).toEqual(memory);
    expect(next.floor).toBe(floor);
    expect(next.stalls).toHaveLength(memory ? 0 : stalls.filter((t) => now - t < 60_000).length + 1);
  });
});

describe('the climb schedule', () => {
  const schedule = { first: 3000, max: 300_000 };
  test.each([
    ['3 s after the fall', 0, 3000],
    ['then 6 s', 1, 6000],
    ['then 12 s', 2, 12_000],
    ['capped at 5 min', 7, 300_000],
    ['no overflow after many failures', 1000, 300_000],
  ])('%s', (_, climbs, delay) => {
    expect(ladder.climbAt(L({ climbs }), 1000, schedule).climbDue).toBe(1000 + delay);
  });

  test('a due time already set is kept across reconnects', () => {
    expect(ladder.climbAt(L({ climbDue: 4242 }), 1000, schedule).climbDue).toBe(4242);
  });

  test.each([
    ['a climb starting clears the due time, keeps the count', undefined, { climbDue: 0, climbs: 2 }],
    ['a climb that found nothing doubles the next delay', false, { climbDue: 0, climbs: 3 }],
    ['a climb that moved up starts the schedule over', true, { climbDue: 0, climbs: 0 }],
  ])('%s', (_, found, want) => {
    expect(ladder.climbed(L({ climbs: 2, climbDue: 77 }), found)).toMatchObject(want);
  });

  test('a new network forgets everything learned about the old one', () => {
    const [next, action] = ladder.newNetwork(L({ floor: 2, climbs: 4, climbDue: 9, best: 1 }));
    expect(action).toBe('forget');
    expect(next).toMatchObject({ floor: 0, climbs: 0, climbDue: 0, best: 1 });
  });
});
