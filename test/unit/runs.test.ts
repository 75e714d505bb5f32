/**
 * `run` frames (docs/protocol.md §1.4): the client's outbox groups consecutive plain-JSON
 * messages of one type into one frame for a server that said `run`; the server's decoder and
 * reader take a run as the messages it stands for, each once and in order.
 */
import { describe, expect, test } from 'vitest';
import { createBatcher } from '../../src/protocol/batcher';
import { Inbox } from '../../src/protocol/inbox';
import { Outbox } from '../../src/protocol/outbox';
import { decode } from '../../src/server/codec';
import { readFrames, type FrameSink } from '../../src/server/incoming';
import type { Frame } from '../../src/protocol/frames';
import type { Link } from '../../src/server/link';

const limits = { maxMessages: 100, maxBytes: 100_000 };

/** An outbox holding `a`, `a`, `a`, `b`, bytes in `a`, `a`, `a` (numbers 1 to 7). */
function queued(): Outbox {
  const o = new Outbox(limits);
  for (let i = 1; i <= 3; i++) o.push('a', JSON.stringify({ i }), false);
  o.push('b', '"x"', false);
  o.push('a', '{"$b":"AQI="}', false, undefined, 'b64');
  o.push('a', '6', false);
  o.push('a', '7', false);
  return o;
}

describe('the outbox writes runs only when asked', () => {
  test('without `run`: one msg frame per message, as before', () => {
    const out = queued().takeUnsent(1 << 20, 0, [], 9);
    expect(out.map((f) => JSON.parse(f).t)).toEqual(['msg', 'msg', 'msg', 'msg', 'msg', 'msg', 'msg']);
    expect(JSON.parse(out[0]!)).toEqual({ t: 'msg', a: 9, s: 1, ev: 'a', d: { i: 1 } });
  });

  test('with `run`: a type change and a payload with bytes end a run; a group of one is a msg; the ack rides in the first frame', () => {
    const out = queued().takeUnsent(1 << 20, 0, [], 9, true);
    expect(out.map((f) => JSON.parse(f))).toEqual([
      { t: 'run', a: 9, s: 1, ev: 'a', d: [{ i: 1 }, { i: 2 }, { i: 3 }] },
      { t: 'msg', s: 4, ev: 'b', d: 'x' },
      { t: 'msg', s: 5, ev: 'a', d: { $b: 'AQI=' }, e: 'b64' },
      { t: 'run', s: 6, ev: 'a', d: [6, 7] },
    ]);
    // What the server's decoder accepts, frame for frame.
    expect(decode(`[${out.join(',')}]`)).toHaveLength(4);
  });

  test('the byte bound still cuts a slice (a run ends with it), and the next slice goes on from there', () => {
    const o = new Outbox(limits);
    for (let i = 1; i <= 6; i++) o.push('a', '"0123456789"', false); // 12 bytes each
    const first = o.takeUnsent(30, 0, [], undefined, true);
    expect(first.map((f) => JSON.parse(f))).toEqual([{ t: 'run', s: 1, ev: 'a', d: ['0123456789', '0123456789'] }]);
    expect(o.takeUnsent(1000, 0, [], undefined, true).map((f) => JSON.parse(f))).toEqual([{ t: 'run', s: 3, ev: 'a', d: Array(4).fill('0123456789') }]);
  });

  test('a batcher told `run` writes runs; one not told writes msg frames', () => {
    for (const run of [true, false]) {
      const o = new Outbox(limits);
      const written: string[] = [];
      const clock = { now: () => 0, setTimeout: () => 0, clearTimeout() {} };
      const b = createBatcher({ clock, inbox: new Inbox(), outbox: o, link: () => ({ send: (t) => void written.push(t) }), slice: () => 1 << 20 });
      b.run = run;
      o.push('a', '1', false);
      o.push('a', '2', false);
      b.flush();
      expect(JSON.parse(written[0]!)).toMatchObject(run ? { t: 'run', s: 1, d: [1, 2] } : [{ t: 'msg', s: 1 }, { t: 'msg', s: 2 }]);
    }
  });
});

describe('the server reads a run as its messages', () => {
  /** A sink that records deliveries, with an inbox at `received`. */
  function sink(received = 0) {
    const got: [string, unknown][] = [];
    const inbox = new Inbox();
    inbox.received = received;
    const s: FrameSink = {
      inbox,
      outbox: new Outbox(limits),
      batcher: { ackSoon() {} } as never,
      maxBytes: 1 << 20,
      deliver: (ev, d) => void got.push([ev, d]),
      report() {},
      bye() {},
      live: () => true,
    };
    return { s, got, inbox };
  }
  const link = {} as Link;
  const read = (text: string, s: FrameSink) => readFrames(decode(text) as Frame[], text.length, 0, s, link);

  test('each message once, in order; a resent run that overlaps what arrived delivers only the rest', () => {
    const { s, got, inbox } = sink();
    expect(read('{"t":"run","s":1,"ev":"a","d":[1,2,3]}', s)).toBeUndefined();
    expect(read('[{"t":"run","s":2,"ev":"a","d":[2,3,4]},{"t":"msg","s":5,"ev":"b","d":5}]', s)).toBeUndefined();
    expect(got).toEqual([['a', 1], ['a', 2], ['a', 3], ['a', 4], ['b', 5]]);
    expect(inbox.received).toBe(5);
  });

  test('a run that starts past the next number is a gap: a protocol violation, nothing of it delivered', () => {
    const { s, got } = sink(1);
    expect(read('{"t":"run","s":3,"ev":"a","d":[3,4]}', s)).toMatchObject({ code: 'protocol_error' });
    expect(got).toEqual([]);
  });

  test('the ack riding in a run is checked like an ack frame', () => {
    const { s } = sink();
    expect(read('{"t":"run","a":4,"s":1,"ev":"a","d":[1,2]}', s)).toMatchObject({ code: 'protocol_error' }); // nothing sent yet
  });

  test.each([
    ['an empty run', '{"t":"run","s":1,"ev":"a","d":[]}'],
    ['data that is not a list', '{"t":"run","s":1,"ev":"a","d":{"0":1}}'],
    ['number 0', '{"t":"run","s":0,"ev":"a","d":[1]}'],
    ['no type', '{"t":"run","s":1,"d":[1]}'],
    ['an empty type', '{"t":"run","s":1,"ev":"","d":[1]}'],
    ['a type past its bound', `{"t":"run","s":1,"ev":"${'x'.repeat(257)}","d":[1]}`],
    ['a bad ack', '{"t":"run","s":1,"ev":"a","d":[1],"a":-1}'],
  ])('the decoder refuses %s', (_what, text) => {
    expect(() => decode(text)).toThrow();
  });
});
