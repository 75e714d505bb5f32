import { describe, expect, it } from 'vitest';
import { BINARY_LAYOUT, decodeBinary, toBinary } from '../../src/protocol/binary';
import { createBatcher } from '../../src/protocol/batcher';
import { DecodeError, decode } from '../../src/protocol/codec';
import { decodeData, encodeData } from '../../src/protocol/data';
import { batch, encodeFrame } from '../../src/protocol/encode';
import { Inbox } from '../../src/protocol/inbox';
import { Outbox, type OutboxState } from '../../src/protocol/outbox';
import { adoptOutbox, outboxState } from '../../src/server/outbox-state';
import { isSessionState } from '../../src/server/handover';

/** A session state around an outbox, as src/server/handover.ts moves it between nodes. */
const baseState = { v: 1, id: 's', keyHash: 'k', identity: 'null', user: 'null', received: 0, rooms: [] };

const bytes = (n: number, k = 1) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + k) & 255);
/** The encoded msg frame of `data`, as an outbox writes it. */
const msg = (s: number, ev: string, data: unknown) => {
  const { payload, e } = encodeData(data, ev);
  return encodeFrame.msg(s, ev, payload, e);
};
/** The frames of a binary message with their data decoded, as a receiver sees them. */
const read = (bin: Uint8Array) => decodeBinary(bin).map((f) => (f.t === 'msg' ? { ...f, d: decodeData(f.d, f.e) } : f));

/** A binary message by hand: layout byte, header, segments. */
function build(header: string, segments: Uint8Array[] = [], layout = BINARY_LAYOUT, headerLength?: number): Uint8Array {
  const h = new TextEncoder().encode(header);
  const out = new Uint8Array(5 + h.length + segments.reduce((n, s) => n + 4 + s.length, 0));
  const v = new DataView(out.buffer);
  out[0] = layout;
  v.setUint32(1, headerLength ?? h.length);
  out.set(h, 5);
  let at = 5 + h.length;
  for (const s of segments) v.setUint32(at, s.length), out.set(s, at + 4), (at += 4 + s.length);
  return out;
}

describe('binary WebSocket messages (docs/protocol.md §1.3)', () => {
  it('carry the bytes of a message raw, and decode to the same data', () => {
    const data = { name: 'x', body: bytes(65_536), parts: [bytes(0), bytes(3, 9)], $meta: { $b: 'a string, not bytes' } };
    const bin = toBinary([msg(1, 'put', data)])!;
    expect(bin[0]).toBe(BINARY_LAYOUT);
    // Raw: the size is the bytes plus a small header, not 4/3 of them.
    expect(bin.length).toBeLessThan(65_536 + 3 + 300);
    const header = new TextDecoder().decode(bin.subarray(5, 5 + new DataView(bin.buffer).getUint32(1)));
    expect(header).toContain('"e":"bin"');
    expect(header).toContain('{"$r":0}');
    expect(header).not.toContain('"$b":"'); // no base64 left...
    expect(header).toContain('"$$b":"a string, not bytes"'); // ...but the app's own "$b" key, escaped
    expect(read(bin)).toEqual([{ t: 'msg', s: 1, ev: 'put', d: data }]);
  });

  it('leave frames without bytes alone: no binary form, or text inside the header', () => {
    const plain = msg(1, 'x', { $b: 'QQ==' }); // an app's plain JSON that looks like a tag
    expect(toBinary([plain, encodeFrame.ack(3)])).toBeUndefined();
    const mixed = [encodeFrame.ack(3), plain, msg(2, 'y', { b: bytes(10) }), encodeFrame.ping(4)];
    expect(read(toBinary(mixed)!)).toEqual([
      { t: 'ack', a: 3 },
      { t: 'msg', s: 1, ev: 'x', d: { $b: 'QQ==' } },
      { t: 'msg', s: 2, ev: 'y', d: { b: bytes(10) } },
      { t: 'ping', n: 4 },
    ]);
  });

  it('give each receiver its own copy of the bytes, as a plain Uint8Array', () => {
    const bin = toBinary([msg(1, 'x', [bytes(4), bytes(4)])])!;
    const [f] = read(bin);
    const [a, b] = (f as { d: Uint8Array[] }).d;
    expect(a!.buffer).not.toBe(bin.buffer);
    expect(a!.buffer.byteLength).toBe(4);
    a![0] = 99;
    expect(b![0]).toBe(bytes(4)[0]);
  });

  it('are what a WebSocket writer gets from the batcher; the same outbox entry is text for a text writer (rung changes)', () => {
    const outbox = new Outbox({ maxMessages: 10, maxBytes: 1e6 });
    const clock = { now: () => 0, setTimeout: () => 0, clearTimeout: () => {} };
    const written: (string | Uint8Array)[] = [];
    let writer: { send(t: string): void; sendFrames?(p: readonly string[]): void } = {
      send: (t) => written.push(t),
      sendFrames: (p) => written.push(toBinary(p) ?? batch(p)),
    };
    const batcher = createBatcher({ clock, inbox: new Inbox(), outbox, link: () => writer, slice: () => 1e6 });
    const { payload, e } = encodeData({ raw: bytes(1000) }, 'x');
    void outbox.push('x', payload, false, undefined, e);
    void outbox.push('plain', '{"n":1}', false);
    batcher.flush();
    // Queued once, written on a WebSocket: binary, both messages in it.
    expect(written[0]).toBeInstanceOf(Uint8Array);
    expect(read(written[0] as Uint8Array)).toEqual([
      { t: 'msg', s: 1, ev: 'x', d: { raw: bytes(1000) } },
      { t: 'msg', s: 2, ev: 'plain', d: { n: 1 } },
    ]);
    // Not acknowledged; the next link is SSE or long-polling: the same entries resent as b64 text.
    writer = { send: (t) => written.push(t) };
    outbox.rewind();
    batcher.flush();
    expect(typeof written[1]).toBe('string');
    const text = decode(written[1] as string);
    expect(text[0]).toMatchObject({ t: 'msg', s: 1, e: 'b64' });
    expect(decodeData((text[0] as { d: unknown }).d, 'b64')).toEqual({ raw: bytes(1000) });
    // And back on a WebSocket: binary again.
    writer = { send: (t) => written.push(t), sendFrames: (p) => written.push(toBinary(p) ?? batch(p)) };
    outbox.rewind();
    batcher.flush();
    expect(read(written[2] as Uint8Array)[0]).toEqual({ t: 'msg', s: 1, ev: 'x', d: { raw: bytes(1000) } });
  });

  it('survive a hand-over: the outbox state (as the Redis store keeps it, JSON) carries the b64 form, and the new node writes binary', () => {
    const old = new Outbox({ maxMessages: 10, maxBytes: 1e6 });
    const { payload, e } = encodeData({ raw: bytes(2048, 4) }, 'x');
    void old.push('x', payload, false, undefined, e);
    const state = JSON.parse(JSON.stringify({ outbox: outboxState(old) })) as { outbox: OutboxState };
    expect(isSessionState({ ...baseState, outbox: state.outbox })).toBe(true);
    const moved = new Outbox({ maxMessages: 10, maxBytes: 1e6 });
    adoptOutbox(moved, state.outbox);
    const out: Uint8Array[] = [];
    const clock = { now: () => 0, setTimeout: () => 0, clearTimeout: () => {} };
    createBatcher({ clock, inbox: new Inbox(), outbox: moved, link: () => ({ send: () => {}, sendFrames: (p) => out.push(toBinary(p)!) }), slice: () => 1e6 }).flush();
    expect(read(out[0]!)).toEqual([{ t: 'msg', s: 1, ev: 'x', d: { raw: bytes(2048, 4) } }]);
  });

  describe('decoding refuses, with a DecodeError, anything malformed', () => {
    const seg = [bytes(3)];
    const good = '{"t":"msg","s":1,"ev":"x","d":{"$r":0},"e":"bin"}';
    it.each([
      ['empty', new Uint8Array(0)],
      ['shorter than its prefix', new Uint8Array([1, 0, 0])],
      ['an unknown layout', build(good, seg, 2)],
      ['a header longer than the message', build(good, seg, 1, 10_000)],
      ['a header length near 2³²', build(good, seg, 1, 0xffffffff)],
      ['a header that is not UTF-8', build('\u0000', seg).map((b, i) => (i === 5 ? 0xff : b))],
      ['a header that is not JSON', build('{"t":', seg)],
      ['a header that is not a frame', build('{"t":"nope"}', seg)],
      ['a segment length cut short', build(good, seg).subarray(0, 5 + good.length + 2)],
      ['a segment longer than the message', build(good, seg).subarray(0, 5 + good.length + 5)],
      ['a reference past the last segment', build(good.replace('"$r":0', '"$r":1'), seg)],
      ['a reference that is not a number', build(good.replace('"$r":0', '"$r":"0"'), seg)],
      ['a reference that is not an integer', build(good.replace('"$r":0', '"$r":0.5'), seg)],
      ['a base64 tag in a bin frame', build(good.replace('{"$r":0}', '{"$b":"QQ=="}'), seg)],
      ['an unescaped $ key', build(good.replace('{"$r":0}', '{"$x":1}'), seg)],
      ['data nested too deep', build(good.replace('{"$r":0}', `${'['.repeat(300)}{"$r":0}${']'.repeat(300)}`), seg)],
    ])('%s', (_, bin) => {
      expect(() => read(bin)).toThrow(DecodeError);
    });

    it('a bin frame in a text message (it has no segments)', () => {
      expect(() => decodeData(JSON.parse(good).d, 'bin')).toThrow(DecodeError);
    });
  });
});
