import { expect, test } from 'vitest';
import { checkLiveness } from '../../src/core/liveness';

/** The readings by name (the function takes them in this order). */
interface Readings { now: number; lastReceived: number; lastAnswered: number; oldestUnanswered: number | undefined; idleDeadline: number; answerDeadline: number }
const check = (r: Readings) => checkLiveness(r.now, r.lastReceived, r.lastAnswered, r.oldestUnanswered, r.idleDeadline, r.answerDeadline);

const base = { lastReceived: 0, lastAnswered: 0, oldestUnanswered: undefined, idleDeadline: 10_000, answerDeadline: 2000 };

test('idle: alive until the idle deadline, then stalled', () => {
  expect(check({ ...base, now: 4000 })).toBe(6000);
  expect(check({ ...base, now: 10_000 })).toBe('WF_STALLED');
});

test('a late timer decides from the wall clock, not from how often it fired', () => {
  // One check a minute later (a throttled background tab) still sees the stall.
  expect(check({ ...base, now: 60_000 })).toBe('WF_STALLED');
});

test('in flight: unanswered past the answer deadline is a stall long before the idle deadline', () => {
  const inFlight = { ...base, oldestUnanswered: 1000 };
  expect(check({ ...inFlight, now: 2500 })).toBe(500);
  expect(check({ ...inFlight, now: 3000 })).toBe('WF_STALLED');
});

test('downlink alive but no answers: the uplink is swallowed', () => {
  expect(check({ ...base, oldestUnanswered: 1000, lastReceived: 2900, now: 3000 })).toBe('WF_UPLINK_STALLED');
});

test('answers that keep coming move the deadline (a long backlog draining slowly is fine)', () => {
  expect(check({ ...base, oldestUnanswered: 1000, lastAnswered: 2500, lastReceived: 2500, now: 4000 })).toBe(500);
});
