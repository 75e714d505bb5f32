import type { ErrorCode } from '../protocol/errors';

/**
 * Is a live connection still alive? A pure function of wall-clock readings, so a timer that
 * fires late (background tabs throttle timers to once a minute) neither raises a false alarm
 * nor misses a real one: it only decides when it runs, from what actually happened.
 *
 * Positional, not an object of named readings: the client bundle pays for every property name
 * twice (tests name them: test/unit/liveness.test.ts).
 * @param now - the clock's reading.
 * @param lastReceived - when anything last arrived.
 * @param lastAnswered - when an answer (ack or pong) last arrived.
 * @param oldestUnanswered - when the oldest thing still awaiting an answer (a message's ack, a ping's pong) was sent.
 * @param idleDeadline - silence longer than this means the downlink is dead.
 * @param answerDeadline - an answer later than this means the connection stalled mid-conversation.
 * @returns the stall's code, or when to check again if nothing happens (ms from now).
 */
export function checkLiveness(
  now: number,
  lastReceived: number,
  lastAnswered: number,
  oldestUnanswered: number | undefined,
  idleDeadline: number,
  answerDeadline: number,
): ErrorCode | number {
  const idleLeft = lastReceived + idleDeadline - now;
  if (idleLeft <= 0) return 'WF_STALLED';
  if (oldestUnanswered === undefined) return idleLeft;
  const answerLeft = Math.max(oldestUnanswered, lastAnswered) + answerDeadline - now;
  // Data still arrives but our messages go unanswered: the uplink is swallowed.
  if (answerLeft <= 0) return now - lastReceived < answerDeadline ? 'WF_UPLINK_STALLED' : 'WF_STALLED';
  return Math.min(idleLeft, answerLeft);
}
