import { expect, test } from 'vitest';
import { checkLiveness } from '../../src/core/liveness';

const base = { lastReceived: 0, lastAnswered: 0, oldestUnanswered: undefined, idleDeadline: 10_000, answerDeadline: 2000 };

test('idle: alive until the idle deadline, then stalled', () => {
  expect(checkLiveness({ ...base, now: 4000 })).toEqual({ recheckIn: 6000 });
  expect(checkLiveness({ ...base, now: 10_000 }).stalled).toBe('WF_STALLED');
});

test('a late timer decides from the wall clock, not from how often it fired', () => {
  // One check a minute later (a throttled background tab) still sees the stall.
  expect(checkLiveness({ ...base, now: 60_000 }).stalled).toBe('WF_STALLED');
});

test('in flight: unanswered past the answer deadline is a stall long before the idle deadline', () => {
  const inFlight = { ...base, oldestUnanswered: 1000 };
  expect(checkLiveness({ ...inFlight, now: 2500 })).toEqual({ recheckIn: 500 });
  expect(checkLiveness({ ...inFlight, now: 3000 }).stalled).toBe('WF_STALLED');
});

test('downlink alive but no answers: the uplink is swallowed', () => {
  const v = checkLiveness({ ...base, oldestUnanswered: 1000, lastReceived: 2900, now: 3000 });
  expect(v.stalled).toBe('WF_UPLINK_STALLED');
});

test('answers that keep coming move the deadline (a long backlog draining slowly is fine)', () => {
  const v = checkLiveness({ ...base, oldestUnanswered: 1000, lastAnswered: 2500, lastReceived: 2500, now: 4000 });
  expect(v.stalled).toBeUndefined();
});
