import { describe, expect, test } from 'vitest';
import type { AttemptRecord } from '../../src/core/attempt';
import { ladder } from '../../src/core/ladder';
import type { RungMemory } from '../../src/core/memory';
import type { RungName } from '../../src/protocol/api';

// The ladder policy as a table: what the client saw in, where races start, what the rung memory
// is told and when the climbs are due out. Ladder: wss(0) ws(1) sse(2) longpoll(3).

const order: RungName[] = ['wss', 'ws', 'sse', 'longpoll'];
const rec = (rung: RungName, outcome: AttemptRecord['outcome'], duration: number, reason?: AttemptRecord['reason']): AttemptRecord =>
  ({ rung, url: `x://${rung}`, startedAt: 0, duration, outcome, reason });
const schedule = { first: 3000, max: 300_000 };

/** A ladder at clock reading 500 with a fake rung memory that recalls `stored`; `told` lists what the memory was told. */
function make(stored?: string) {
  const clock = { t: 500 };
  const told: string[] = [];
  const memory = {
    recall: () => stored,
    remember: (rung: string) => void told.push(rung),
    unlearn: () => void told.push('forget'),
  } as unknown as RungMemory;
  const l = ladder(order.map((name) => ({ name, url: `x://${name}` })), memory, () => clock.t);
  /** Three stalls of rung `at` within a minute. */
  const demote = (at: number) => [0, 1, 2].forEach(() => l.stalled(at));
  return { l, told, clock, demote };
}
const refusedAbove = [rec('wss', 'failed', 5, 'WF_REFUSED'), rec('ws', 'failed', 5, 'WF_REFUSED'), rec('sse', 'verified', 9)];

describe('startOf: where a race starts', () => {
  test('a fresh client starts at the top, cold (nothing remembered)', () => {
    expect(make().l.startOf(true)).toEqual([0, true]);
  });
  test('a page load starts at the remembered rung, warm', () => {
    expect(make('sse').l.startOf(true)).toEqual([2, false]);
  });
  test('a reconnect does not ask the memory', () => {
    expect(make('sse').l.startOf(false)).toEqual([0, false]);
  });
  test('a remembered rung not on the ladder is ignored (the start is not cold)', () => {
    expect(make('x').l.startOf(true)).toEqual([0, false]);
  });
  test('a demoted floor wins over a higher memory', () => {
    const { l, demote } = make('ws');
    demote(2);
    expect(l.startOf(true)[0]).toBe(3);
  });
  test('the memory wins over a lower floor', () => {
    const { l, demote } = make('sse');
    demote(0);
    expect(l.startOf(true)[0]).toBe(2);
  });
});

describe('won: what a won race teaches the memory', () => {
  test.each<[string, number, AttemptRecord[], string[]]>([
    ['the top rung won: remember it (a warm start then skips the early HTTP rung)', 0, [rec('wss', 'verified', 10)], ['wss']],
    ['one above opened and stayed silent while the winner verified: frames dropped', 1, [rec('wss', 'abandoned', 30, 'WF_NO_DATA'), rec('ws', 'verified', 20)], ['ws']],
    ['the rungs above were refused: remember the winner', 2, [rec('wss', 'failed', 5, 'WF_REFUSED'), rec('ws', 'failed', 5, 'WF_NETWORK'), rec('sse', 'verified', 20)], ['sse']],
    ['one above was only cut: a cut is bad luck, not a verdict', 2, [rec('wss', 'failed', 5, 'WF_REFUSED'), rec('ws', 'failed', 5, 'WF_DISCONNECTED'), rec('sse', 'verified', 20)], []],
    ['one above was merely slower than the winner: not remembered', 1, [rec('wss', 'abandoned', 200, 'WF_OPEN_TIMEOUT'), rec('ws', 'verified', 100)], []],
    ['one above was greeted, its welcome slow (authenticate): not remembered', 1, [rec('wss', 'abandoned', 200, 'WF_NO_WELCOME'), rec('ws', 'verified', 100)], []],
    ['one above still stuck > 4× the winner + 100 ms: it hangs', 1, [rec('wss', 'abandoned', 501, 'WF_NO_DATA'), rec('ws', 'verified', 100)], ['ws']],
    ['started below (no record above): no evidence, nothing learned', 2, [rec('sse', 'verified', 10)], []],
  ])('%s', (_, index, records, memory) => {
    const { l, told } = make();
    l.won(index, records);
    expect(told).toEqual(memory);
  });

  test('a better rung worked earlier in this life (server restart): not remembered', () => {
    const { l, told } = make();
    l.won(0, [rec('wss', 'verified', 3)]);
    l.won(2, [rec('wss', 'failed', 5, 'WF_REFUSED'), rec('ws', 'failed', 5, 'WF_REFUSED'), rec('sse', 'verified', 9)]);
    expect(told).toEqual(['wss']);
  });

  test.each([
    ['falling further down restarts the climb schedule', 1, 2, 3000],
    ['climbing up keeps it', 2, 1, 23_000],
  ])('%s', (_, from, to, next) => {
    const { l, clock } = make();
    l.won(from, []);
    for (let i = 0; i < 3; i++) l.climbed(false);
    expect(l.climbIn(schedule)).toBe(24_000);
    clock.t += 1000;
    l.won(to, []);
    expect(l.climbIn(schedule)).toBe(next);
  });

  test('a win above a demoted floor lifts the floor', () => {
    const { l, demote } = make();
    l.won(1, []);
    demote(1);
    expect(l.startOf(false)[0]).toBe(2);
    l.won(0, []);
    expect(l.startOf(false)[0]).toBe(0);
  });

  test('a win above the skip lowers it (the climb brought a rung back)', () => {
    const { l } = make();
    l.won(2, refusedAbove);
    l.climbIn(schedule);
    expect(l.startOf(false)[0]).toBe(2);
    l.won(0, []);
    expect(l.startOf(false)[0]).toBe(0);
  });
});

describe('per-rung backoff: reconnects skip rungs refused moments ago, until the climb', () => {
  test('the rungs above refused: reconnects start at the winner until the climb is due', () => {
    const { l, clock } = make();
    clock.t = 1000;
    l.won(2, refusedAbove);
    expect(l.climbIn(schedule)).toBe(3000);
    clock.t = 3999;
    expect(l.startOf(false)[0]).toBe(2);
    clock.t = 4000;
    expect(l.startOf(false)[0]).toBe(0);
  });

  test('a rung that was only cut is not skipped', () => {
    const { l } = make();
    l.won(2, [rec('wss', 'failed', 5, 'WF_REFUSED'), rec('ws', 'failed', 5, 'WF_DISCONNECTED'), rec('sse', 'verified', 9)]);
    l.climbIn(schedule);
    expect(l.startOf(false)[0]).toBe(0);
  });

  test.each([
    ['a failed reconnect from the skip', (l: ReturnType<typeof ladder>) => l.raceFailed(2)],
    ['a new network', (l: ReturnType<typeof ladder>) => l.newNetwork()],
  ])('%s starts at the top again', (_, then) => {
    const { l } = make();
    l.won(2, refusedAbove);
    l.climbed(true);
    l.climbIn(schedule);
    expect(l.startOf(false)[0]).toBe(2);
    then(l);
    expect(l.startOf(false)[0]).toBe(0);
  });
});

describe('a rung above merely slow: the first climb comes soon', () => {
  test('abandoned with no evidence against it: climb 4x the winner + 100 ms after the fall', () => {
    const { l } = make();
    l.won(2, [rec('wss', 'failed', 5, 'WF_REFUSED'), rec('ws', 'abandoned', 12, 'WF_OPEN_TIMEOUT'), rec('sse', 'verified', 5)]);
    expect(l.climbIn(schedule)).toBe(120);
    l.climbed(); // then the schedule as before
    expect(l.climbIn(schedule)).toBe(3000);
  });

  test('broken above (refused, or silent after the 101): the schedule as before', () => {
    const { l } = make();
    l.won(1, [rec('wss', 'abandoned', 12, 'WF_NO_DATA'), rec('ws', 'verified', 5)]);
    expect(l.climbIn(schedule)).toBe(3000);
  });
});

describe('raceFailed: the start rung failed too', () => {
  test('from the top: nothing to unlearn', () => {
    const { l, told } = make();
    l.raceFailed(0);
    expect(told).toEqual([]);
  });
  test('from a remembered or demoted rung: forget, start at the top again', () => {
    const { l, told, demote } = make();
    l.won(1, []);
    demote(1);
    told.length = 0;
    l.raceFailed(2);
    expect(told).toEqual(['forget']);
    expect(l.startOf(false)[0]).toBe(0);
  });
});

describe('stalled: three stalls within a minute demote a rung', () => {
  test.each<[string, number[], number, string[], number]>([
    ['a first stall is noted', [1000], 1, [], 0],
    ['the third within 60 s demotes to the rung below', [1000, 30_000, 59_999], 1, ['sse'], 2],
    ['stalls older than 60 s do not count', [1000, 30_000, 61_000], 1, [], 0],
    ['the last rung has nothing below', [1000, 2000, 3000], 3, [], 0],
    ['after a demotion the count starts over', [1000, 2000, 3000, 4000, 5000], 1, ['sse'], 2],
  ])('%s', (_, times, index, memory, floor) => {
    const { l, told, clock } = make();
    for (const t of times) {
      clock.t = t;
      l.stalled(index);
    }
    expect(told).toEqual(memory);
    expect(l.startOf(false)[0]).toBe(floor);
  });
});

describe('the climb schedule', () => {
  test.each([
    ['3 s after the fall', 0, 3000],
    ['then 6 s', 1, 6000],
    ['then 12 s', 2, 12_000],
    ['capped at 5 min', 7, 300_000],
    ['no overflow after many failures', 1000, 300_000],
  ])('%s', (_, climbs, delay) => {
    const { l } = make();
    for (let i = 0; i < climbs; i++) l.climbed(false);
    expect(l.climbIn(schedule)).toBe(delay);
  });

  test('a due time already set is kept across reconnects', () => {
    const { l, clock } = make();
    expect(l.climbIn(schedule)).toBe(3000);
    clock.t += 1000;
    expect(l.climbIn(schedule)).toBe(2000);
  });

  test.each([
    ['a climb starting clears the due time, keeps the count', undefined, 12_000],
    ['a climb that found nothing doubles the next delay', false, 24_000],
    ['a climb that moved up starts the schedule over', true, 3000],
  ])('%s', (_, found, delay) => {
    const { l, clock } = make();
    l.climbed(false);
    l.climbed(false);
    l.climbIn(schedule);
    clock.t += 1000;
    l.climbed(found);
    expect(l.climbIn(schedule)).toBe(delay);
  });

  test('a new network forgets everything learned about the old one', () => {
    const { l, told, demote } = make();
    l.won(1, []);
    demote(1);
    l.climbed(false);
    l.climbIn(schedule);
    told.length = 0;
    l.newNetwork();
    expect(told).toEqual(['forget']);
    expect(l.startOf(false)[0]).toBe(0);
    expect(l.climbIn(schedule)).toBe(3000);
    // What this client's life showed stays: a better rung worked, so a lower one is not remembered.
    l.won(2, refusedAbove);
    expect(told).toEqual(['forget']);
  });
});
