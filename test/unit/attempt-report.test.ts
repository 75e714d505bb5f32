import { describe, expect, it } from 'vitest';
import { readReport, REPORT_MAX } from '../../src/server/attempt-report';
import { decode } from '../../src/server/codec';
import { encodeFrame } from '../../src/protocol/encode';

describe('the attempt report (protocol.md §4.1)', () => {
  it('reads rung, outcome, rounded duration and reason; a verified attempt has no reason', () => {
    const frames = decode(encodeFrame.report([['ws', 'failed', 3012.4, 'WF_NO_DATA'], ['sse', 'verified', 88, null], ['longpoll', 'abandoned', 7]]));
    expect(frames[0]!.t).toBe('report');
    const read = readReport((frames[0] as { a: unknown[] }).a);
    expect(read).toEqual({
      attempts: [
        { rung: 'ws', outcome: 'failed', ms: 3012, reason: 'WF_NO_DATA' },
        { rung: 'sse', outcome: 'verified', ms: 88 },
        { rung: 'longpoll', outcome: 'abandoned', ms: 7 },
      ],
    });
  });

  it.each([
    [[['ws', 'failed', 1, 'WF_MADE_UP']], /unknown reason code "WF_MADE_UP"/],
    [[['carrier-pigeon', 'failed', 1]], /unknown rung/],
    [[['ws', 'won', 1]], /unknown outcome/],
    [[['ws', 'failed', -1]], /duration/],
    [[['ws', 'failed', 'slow']], /duration/],
    [[['ws', 'failed', Number.NaN]], /duration/],
    [[{ rung: 'ws' }], /not \[rung/],
    [[['ws', 'failed']], /not \[rung/],
    [[['ws', 'failed', 1, 'WF_NO_DATA', 'extra']], /not \[rung/],
    [[['ws', 'failed', 1, { toString: 1 }]], /unknown reason code object/],
    [Array.from({ length: REPORT_MAX + 1 }, () => ['ws', 'verified', 1]), /at most 16/],
  ])('refuses %j whole, with a typed protocol_error', (a, message) => {
    const read = readReport(a as unknown[]);
    expect(read).toMatchObject({ code: 'protocol_error' });
    expect((read as { message: string }).message).toMatch(message);
  });

  it('a duration is capped at an hour; the longest report is accepted', () => {
    expect(readReport([['ws', 'failed', 1e12, 'WF_OPEN_TIMEOUT']])).toEqual({ attempts: [{ rung: 'ws', outcome: 'failed', ms: 3_600_000, reason: 'WF_OPEN_TIMEOUT' }] });
    expect(readReport(Array.from({ length: REPORT_MAX }, () => ['ws', 'verified', 1]))).toMatchObject({ attempts: { length: REPORT_MAX } });
  });

  it('the server\'s codec takes a report only with a list of entries', () => {
    expect(() => decode('{"t":"report","a":{}}')).toThrow(/malformed report/);
    expect(() => decode('{"t":"report"}')).toThrow(/malformed report/);
  });
});
