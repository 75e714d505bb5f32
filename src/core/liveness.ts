import type { ErrorCode } from '../protocol/errors';

/**
 * Is a live connection still alive? A pure function of wall-clock readings, so a timer that
 * fires late (background tabs throttle timers to once a minute) neither raises a false alarm
 * nor misses a real one: it only decides when it runs, from what actually happened.
 */
export interface LivenessInput {
  now: number;
  /** Last time anything arrived. */
  lastReceived: number;
  /** When the oldest thing still awaiting an answer (a message's ack, a ping's pong) was sent. */
  oldestUnanswered: number | undefined;
  /** Last time an answer (ack or pong) arrived. */
  lastAnswered: number;
  /** Silence longer than this means the downlink is dead. */
  idleDeadline: number;
  /** An answer later than this means the connection stalled mid-conversation. */
  answerDeadline: number;
}

export interface LivenessVerdict {
  stalled?: ErrorCode;
  /** When to check again if nothing happens, ms from now. */
  recheckIn: number;
}

export function checkLiveness(i: LivenessInput): LivenessVerdict {
  const idleLeft = i.lastReceived + i.idleDeadline - i.now;
  if (idleLeft <= 0) return { stalled: 'WF_STALLED', recheckIn: 0 };
  if (i.oldestUnanswered !== undefined) {
    const waitingSince = Math.max(i.oldestUnanswered, i.lastAnswered);
    const answerLeft = waitingSince + i.answerDeadline - i.now;
    if (answerLeft <= 0) {
      // Data still arrives but our messages go unanswered: the uplink is swallowed.
      const downlinkAlive = i.now - i.lastReceived < i.answerDeadline;
      return { stalled: downlinkAlive ? 'WF_UPLINK_STALLED' : 'WF_STALLED', recheckIn: 0 };
    }
    return { recheckIn: Math.min(idleLeft, answerLeft) };
  }
  return { recheckIn: idleLeft };
}
