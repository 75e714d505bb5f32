import { describe, expect, test } from 'vitest';
import { wrapFrames } from '../../src/protocol/encode';

describe('wrapFrames (the HTTP downlinks write a batch joined once)', () => {
  test('a long-poll answer and an SSE event of several frames, and of one', () => {
    const parts = ['{"t":"ack","a":1}', '{"t":"msg","s":1,"ev":"a","d":[1,2]}', '{"t":"ping"}'];
    expect(JSON.parse(wrapFrames('[', parts, ']'))).toEqual(parts.map((p) => JSON.parse(p)));
    expect(wrapFrames('data: [', parts, ']\n\n')).toBe(`data: [${parts.join(',')}]\n\n`);
    expect(wrapFrames('[', ['{"t":"ping"}'], ']')).toBe('[{"t":"ping"}]');
    // The batcher's array is left as it was.
    expect(parts[0]).toBe('{"t":"ack","a":1}');
    expect(parts[2]).toBe('{"t":"ping"}');
  });
});
