import { describe, expect, test } from 'vitest';
import { describeAttempt, describeReason, type AttemptRecord } from '../../src/index';

const rec = (r: Partial<AttemptRecord>): AttemptRecord => ({ rung: 'ws', url: 'ws://h/wf', startedAt: 0, duration: 1, outcome: 'failed', ...r });

describe('describeAttempt / describeReason', () => {
  test.each([
    [rec({ reason: 'WF_NO_DATA' }), 'WebSocket blocked: frames dropped after the upgrade', 'frames dropped after the upgrade'],
    [rec({ rung: 'wss', reason: 'WF_REFUSED', status: 403 }), 'WebSocket over TLS blocked: refused with HTTP 403', 'refused with HTTP 403'],
    [rec({ reason: 'WF_NETWORK' }), 'WebSocket blocked: network error', 'refused or unreachable (the browser shows no status)'],
    [rec({ rung: 'wss', outcome: 'abandoned', reason: 'WF_OPEN_TIMEOUT' }), 'WebSocket over TLS lost the race: no answer, held back', 'no answer yet; another rung won'],
    [rec({ outcome: 'abandoned', reason: 'WF_NO_DATA' }), 'WebSocket lost the race: opened, then silence: frames dropped after the upgrade', 'opened, then silence; another rung won'],
    [rec({ rung: 'sse', outcome: 'verified' }), 'Server-Sent Events: round trip verified', 'round trip verified'],
    [rec({ rung: 'longpoll', reason: 'WF_UNAUTHORIZED', status: 401 }), 'long-polling blocked: refused by the server', 'refused by the server'],
  ])('%o', (a, sentence, reason) => {
    expect(describeAttempt(a)).toBe(sentence);
    expect(describeReason(a)).toBe(reason);
  });

  test('an unknown reason is named as it is, never left blank', () => {
    expect(describeAttempt(rec({ reason: 'WF_SOMETHING_NEW' as never }))).toBe('WebSocket blocked: WF_SOMETHING_NEW');
  });
});
