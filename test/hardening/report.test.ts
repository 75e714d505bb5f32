/**
 * The attempt report (protocol.md §4.1) is the client's word: malformed, oversized, repeated or
 * from a newer client with codes this server does not know, it is refused with a typed,
 * non-fatal `protocol_error`, the app hears nothing, and the link and the session go on.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { bystander, serve } from '../support/bystander';
import { guardProcess } from '../support/guard';
import { cleanup, eventually } from '../support/harness';
import { raw } from '../support/raw';

guardProcess();
afterEach(cleanup);

async function opened(url: string) {
  const r = await raw(url);
  r.ws.send(JSON.stringify({ t: 'hello', v: 2 }));
  await eventually(() => r.frames.some((f) => f.t === 'welcome'), 5000, 'a welcome');
  r.ws.send('{"t":"ack","a":0}');
  return r;
}

describe('a hostile attempt report', () => {
  it.each([
    ['an unknown reason code', [['ws', 'failed', 10, 'WF_FROM_THE_FUTURE']]],
    ['an unknown rung', [['smoke-signals', 'failed', 10]]],
    ['too many entries', Array.from({ length: 17 }, () => ['ws', 'verified', 1])],
    ['entries that are not tuples', [{ rung: 'ws' }, null, 7]],
    ['a prototype-named reason', [['ws', 'failed', 1, '__proto__']]],
  ])('%s: refused with a non-fatal protocol_error; the link and the bystander go on', async (_, a) => {
    const { server, url, lines } = await serve();
    const by = await bystander(server, url);
    const heard: string[] = [];
    server.on('connection', (conn) => conn.on('attempts', () => heard.push(conn.id)));
    const r = await opened(url);
    r.ws.send(JSON.stringify({ t: 'report', a }));
    await eventually(() => r.frames.some((f) => f.t === 'error'), 5000, 'an error frame');
    expect(r.frames.find((f) => f.t === 'error')).toMatchObject({ code: 'protocol_error', fatal: false });
    expect(lines.some((l) => /refused an attempt report/.test(l.message))).toBe(true);
    // The link still carries the protocol: a ping is answered.
    r.ws.send('{"t":"ping","n":7}');
    await eventually(() => r.frames.some((f) => f.t === 'pong' && f.n === 7), 5000, 'the pong');
    expect(r.closed()).toBeUndefined();
    const sid = r.frames.find((f) => f.t === 'welcome')!.sid as string;
    expect(heard).not.toContain(sid);
    expect([...server.connections].find((c) => c.id === sid)!.attempts).toEqual([]);
    // The real client beside it reported its own attempt, and was heard.
    expect(heard).toContain([...server.connections].find((c) => c.id !== sid)!.id);
    await by.check();
  });

  it('a second report on one link is refused; the first stands', async () => {
    const { server, url } = await serve();
    const r = await opened(url);
    r.ws.send(JSON.stringify({ t: 'report', a: [['ws', 'verified', 5]] }));
    r.ws.send(JSON.stringify({ t: 'report', a: [['sse', 'verified', 9]] }));
    await eventually(() => r.frames.some((f) => f.t === 'error'), 5000, 'an error frame');
    expect(r.frames.find((f) => f.t === 'error')).toMatchObject({ code: 'protocol_error', fatal: false, message: expect.stringMatching(/second report/) });
    const conn = [...server.connections][0]!;
    expect(conn.attempts).toEqual([{ rung: 'ws', outcome: 'verified', ms: 5 }]);
    expect(r.closed()).toBeUndefined();
  });

  it('a report whose list is not a list breaks the frame rules (protocol_error, link closed), the process lives', async () => {
    const { server, url } = await serve();
    const by = await bystander(server, url);
    const r = await opened(url);
    r.ws.send('{"t":"report","a":"ws,failed"}');
    await eventually(() => r.closed() !== undefined, 5000, 'the close');
    expect(r.frames.find((f) => f.t === 'error')).toMatchObject({ code: 'protocol_error' });
    await by.check();
  });
});
