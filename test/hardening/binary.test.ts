/**
 * Binary WebSocket messages (docs/protocol.md §1.3) from a hostile client: whatever their layout,
 * lengths or references, the server answers with a documented error and close code, delivers
 * nothing of them, and keeps serving everyone else.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { CloseCode } from '../../src/protocol/close-codes';
import { bystander, serve } from '../support/bystander';
import { guardProcess } from '../support/guard';
import { cleanup, eventually } from '../support/harness';
import { raw } from '../support/raw';

guardProcess();
afterEach(cleanup);

/** A binary message by hand: layout byte, header length, header, length-prefixed segments. */
function build(header: string, segments: Buffer[] = [], opts: { layout?: number; headerLength?: number } = {}): Buffer {
  const h = Buffer.from(header);
  const out = Buffer.concat([Buffer.from([opts.layout ?? 1, 0, 0, 0, 0]), h, ...segments.flatMap((s) => [Buffer.alloc(4), s])]);
  out.writeUInt32BE(opts.headerLength ?? h.length, 1);
  let at = 5 + h.length;
  for (const s of segments) out.writeUInt32BE(s.length, at), (at += 4 + s.length);
  return out;
}
const msg = (d: string, s = 1) => `{"t":"msg","s":${s},"ev":"echo","d":${d},"e":"bin"}`;

async function welcomed(url: string) {
  const r = await raw(url);
  r.ws.send('{"t":"hello","v":2}');
  await eventually(() => r.frames.some((f) => f.t === 'welcome'), 5000, 'the welcome');
  r.ws.send('{"t":"ack","a":0}');
  return r;
}

describe('a malformed binary message closes its link with protocol_error (4000), nothing delivered', () => {
  const seg = [Buffer.from([1, 2, 3])];
  it.each([
    ['too short for its prefix', Buffer.from([1, 0])],
    ['an unknown layout', build(msg('{"$r":0}'), seg, { layout: 7 })],
    ['a header length past the end', build(msg('{"$r":0}'), seg, { headerLength: 0xfffffff0 })],
    ['a header that is not UTF-8', Buffer.concat([Buffer.from([1, 0, 0, 0, 2, 0xc3, 0x28])])],
    ['a header that is not JSON', build('{"t":"msg",', seg)],
    ['a segment cut short', build(msg('{"$r":0}'), seg).subarray(0, -1)],
    ['a segment length cut short', build(msg('{"$r":0}'), seg).subarray(0, -5)],
    ['a reference to no segment', build(msg('{"$r":3}'), seg)],
    ['a reference that is not a number', build(msg('{"$r":"0"}'), seg)],
    ['a base64 tag where raw ones belong', build(msg('{"$b":"AQID"}'), seg)],
    ['an unescaped $ key', build(msg('{"$proto":1}'), seg)],
  ])('%s', async (_, bad) => {
    const { server, url } = await serve();
    const by = await bystander(server, url);
    const delivered: unknown[] = [];
    server.on('connection', (conn) => conn.subscribe('echo', (d) => void delivered.push(d)));
    const r = await welcomed(url);
    r.ws.send(bad, { binary: true });
    await eventually(() => !!r.closed(), 5000, 'the close');
    expect(r.closed()!.code).toBe(CloseCode.ProtocolError);
    expect(r.frames.find((f) => f.t === 'error')).toMatchObject({ code: 'protocol_error' });
    expect(r.frames.some((f) => f.t === 'ack' && (f.a as number) > 0)).toBe(false);
    await by.check(5);
    // The bystander's echoes carry `n`; nothing of the attacker's arrived.
    expect(delivered.filter((d) => !('n' in (d as object)))).toEqual([]);
  });
});

describe('binary messages are bounded like text ones', () => {
  it('one over the transport message bound closes with too_large (4413) before it is read', async () => {
    const { server, url } = await serve({ maxMessageBytes: 16 * 1024 });
    const by = await bystander(server, url);
    const r = await welcomed(url);
    // Over the bound (16 KiB and 64 KiB of envelope) and under twice it, where `ws` itself would cut with 1009.
    r.ws.send(build(msg('{"$r":0}'), [Buffer.alloc(120 * 1024)]), { binary: true });
    await eventually(() => !!r.closed(), 5000, 'the close');
    expect(r.closed()!.code).toBe(CloseCode.TooLarge);
    expect(r.frames.find((f) => f.t === 'error')).toMatchObject({ code: 'too_large' });
    await by.check(5);
  });

  it('a message whose raw bytes exceed maxMessageBytes is too_large, counted raw', async () => {
    const { server, url } = await serve({ maxMessageBytes: 4096 });
    const delivered: unknown[] = [];
    server.on('connection', (conn) => conn.subscribe('echo', (d) => void delivered.push(d)));
    const r = await welcomed(url);
    // Under the bound as raw bytes (3,000): delivered and acknowledged...
    r.ws.send(build(msg('{"b":{"$r":0}}'), [Buffer.alloc(3000, 7)]), { binary: true });
    await eventually(() => r.frames.some((f) => f.t === 'ack' && f.a === 1), 5000, 'the ack');
    expect(delivered).toEqual([{ b: new Uint8Array(3000).fill(7) }]);
    // ...over it (5,000 raw; the transport message bound has slack for the envelope): refused.
    r.ws.send(build(msg('{"b":{"$r":0}}', 2), [Buffer.alloc(5000, 7)]), { binary: true });
    await eventually(() => !!r.closed(), 5000, 'the close');
    expect(r.frames.find((f) => f.t === 'error')).toMatchObject({ code: 'too_large' });
    expect(delivered).toHaveLength(1);
  });
});
