import { afterEach, describe, expect, test } from 'vitest';
import type { ConnectionState } from '../../src/index';
import { readable } from '../../src/server/fan-out';
import { decodeEntry as decode, encodeEntry } from '../../src/server/store/redis-fanout';
import { redisNode } from '../support/bredis-http';
import { claimed, cleanup, client, eventually, track, until } from '../support/harness';
import { rawHello, redisProbe } from '../support/redis-probe';
import { redisForFile } from '../support/redis-server';

/*
 * What a node reads back from Redis reaches clients only when they can decode it (docs/scaling.md
 * §5, "Corrupt data"): a message a client refuses is not skipped by it, but breaks its link, and
 * is sent again from the replay at every resume, for ever. A fan-out position past the log's end
 * skipped every broadcast for the moved session. Each test here failed before the checks.
 */

const redis = redisForFile();
afterEach(cleanup);

/** An entry as another node would publish it (`encodeEntry`), with a header or payload to spoil. */
const said = (text: string, over: { e?: string; room?: string; type?: string; payload?: string } = {}) =>
  encodeEntry('other-node', 1, { type: over.type ?? 'said', payload: over.payload ?? JSON.stringify({ from: 'x', text }), ...(over.e && { e: over.e }), ...(over.room && { room: over.room }) });

/** As a node decodes an entry: with its clients' payload decoder. */
const decodeEntry = (text: string, id: string) => decode(text, id, readable);

const texts = (frames: Record<string, unknown>[]) => frames.filter((f) => f.t === 'msg').map((f) => (f.d as { text?: string }).text);

/** Node a with a raw session that spoke (so broadcasts reach it), then shut down: its record is parked. */
async function parkedSession(prefix: string) {
  const a = await redisNode(redis.url, prefix);
  const { c, welcome } = await rawHello(a.url);
  c.ws.send('{"t":"ack","a":0}');
  await claimed(a.server);
  return { a, c, ...welcome };
}

describe('what Redis holds is checked before it reaches a client', () => {
  test('entries a client could not decode are not entries', () => {
    expect(decodeEntry(said('ok'), '5-0')?.payload).toBe('{"from":"x","text":"ok"}');
    expect(decodeEntry(said('', { payload: '{not json' }), '5-0')).toBeUndefined();
    expect(decodeEntry(said('', { payload: '1, "t": "bye"' }), '5-0')).toBeUndefined();
    expect(decodeEntry(said('', { e: 'zip' }), '5-0')).toBeUndefined();
    expect(decodeEntry(said('', { e: 'b64', payload: '{"$x":1}' }), '5-0')).toBeUndefined(); // an unescaped $ key
    expect(decodeEntry(said('', { type: '' }), '5-0')).toBeUndefined();
    expect(decodeEntry(said('', { type: 't'.repeat(257) }), '5-0')).toBeUndefined();
    expect(decodeEntry(said('', { room: 'r'.repeat(257) }), '5-0')).toBeUndefined();
    expect(decodeEntry(said('', { e: 'b64', payload: '{"b":{"$b":"AQI="}}' }), '5-0')?.e).toBe('b64');
  });

  test('a live fan-out message that is not JSON is dropped, counted and said; the client keeps its link', async () => {
    const prefix = 'redis3-live';
    const warns: string[] = [];
    const a = await redisNode(redis.url, prefix, { logger: { warn: (m: string) => void warns.push(m) } });
    const b = await redisNode(redis.url, prefix);
    track(a.server);
    track(b.server);
    const c = client(a.url);
    const got: string[] = [];
    const states: ConnectionState[] = [];
    c.subscribe('said', ({ text }) => void got.push(text));
    await until(c, 'open');
    c.on('state', (s) => void states.push(s));
    await claimed(a.server);
    const r = await redisProbe(redis.url);
    await r.sPublish(`${prefix}:all`, `1-1 ${said('', { payload: '{not json' })}`);
    b.server.broadcast('said', { from: 'b', text: 'after' });
    // Before: the client could not decode message 1, broke its link, resumed and was sent it again.
    await eventually(() => got.includes('after'), 5000, 'the broadcast after the bad entry');
    expect(got).toEqual(['after']);
    expect(states).toEqual([]);
    expect(a.store.stats.corrupt).toBe(1);
    expect(warns.some((w) => w.includes('not a well-formed wirefall entry'))).toBe(true);
  });

  test('a moved session catching up from the log skips entries it could not decode', async () => {
    const prefix = 'redis3-log';
    const { a, sid, key } = await parkedSession(prefix);
    await a.server.close();
    const r = await redisProbe(redis.url);
    await r.xAdd(`${prefix}:log`, '*', { m: said('zip', { e: 'zip' }) });
    await r.xAdd(`${prefix}:log`, '*', { m: said('good') });
    const b = await redisNode(redis.url, prefix);
    track(b.server);
    const { c, welcome } = await rawHello(b.url, { sid, key, ack: 0 });
    expect(welcome.resumed).toBe(true);
    await eventually(() => texts(c.frames).includes('good'), 5000, 'the good entry');
    expect(texts(c.frames)).toEqual(['good']);
    expect(b.store.stats.corrupt).toBe(1);
  });

  test.each([
    ['a replayed message in an unknown encoding', (r: Awaited<ReturnType<typeof redisProbe>>, p: string, sid: string) => r.lSet(`${p}:q:${sid}`, 0, '[1,"said","{}","zip"]')],
    ['a replay with a gap in its numbers', (r: Awaited<ReturnType<typeof redisProbe>>, p: string, sid: string) => r.lSet(`${p}:q:${sid}`, 0, '[2,"said","{}"]')],
    ['a room name no join would take', (r: Awaited<ReturnType<typeof redisProbe>>, p: string, sid: string) => r.hSet(`${p}:s:${sid}`, 'rooms', JSON.stringify(['r'.repeat(300)]))],
  ])('a record with %s is dropped: the resume gets a new session (sessionlost), not a broken link', async (_what, spoil) => {
    const prefix = `redis3-rec-${_what.length}`;
    const { a, c: first, sid, key } = await parkedSession(prefix);
    a.server.broadcast('said', { from: 'a', text: 'unacked' }); // message 1, in the replay
    await eventually(() => texts(first.frames).includes('unacked'), 5000, 'message 1');
    await a.server.close();
    const r = await redisProbe(redis.url);
    expect(await r.lLen(`${prefix}:q:${sid}`)).toBe(1);
    await spoil(r, prefix, sid);
    const b = await redisNode(redis.url, prefix);
    track(b.server);
    const { c, welcome } = await rawHello(b.url, { sid, key, ack: 0 });
    // Before: resumed, and the message (or the gap) broke the link at every resume.
    expect(welcome.resumed).toBe(false);
    expect(welcome.sid).not.toBe(sid);
    expect(c.frames.filter((f) => f.t === 'msg')).toEqual([]);
    expect(b.store.stats.corrupt).toBe(1);
    let gone = false;
    await eventually(() => (void r.exists(`${prefix}:s:${sid}`).then((n) => (gone = n === 0)), gone), 5000, 'the corrupt record dropped');
  });
});
