import { afterEach, describe, expect, test } from 'vitest';
import type { ApiShape } from '../../src/index';
import type { WirefallServer } from '../../src/server/index';
import { redisNode } from '../support/bredis-http';
import { claimed, cleanup, eventually, track } from '../support/harness';
import { rawHello } from '../support/redis-probe';
import { redisForFile } from '../support/redis-server';

/*
 * A live owner asked for a session ends it there, then writes its state to Redis for the asker
 * (docs/scaling.md §4, §5). When that write fails (Redis fails in between), the asker takes the
 * record as last committed, and the client resends what it was not acknowledged: the batches
 * that were not committed run again there. Before, the state counted them as handled and their
 * broadcasts were published by the old owner as it let the session go: they reached everyone
 * twice. Now the state leaves at its record's point, their broadcasts with them: once.
 */

const redis = redisForFile();
afterEach(cleanup);

type Api = ApiShape & { client: { say: { text: string }; echo: { n: number } }; server: { said: { text: string }; echoed: { n: number } } };

const said = (frames: Record<string, unknown>[]) => frames.filter((f) => f.t === 'msg' && f.ev === 'said').map((f) => (f.d as { text: string }).text);
const msg = (s: number, ev: string, d: unknown) => JSON.stringify({ t: 'msg', s, ev, d });

function app(server: WirefallServer<Api>, handled: number[]) {
  server.on('connection', (conn) => {
    conn.subscribe('say', ({ text }) => server.broadcast('said', { text }));
    conn.subscribe('echo', ({ n }) => (handled.push(n), void conn.send('echoed', { n }).catch(() => {})));
  });
}

async function observer(url: string) {
  const o = await rawHello(url);
  o.c.ws.send('{"t":"ack","a":0}');
  return o.c;
}

describe('a hand-over whose write fails runs the batches it had not committed once', () => {
  test('their broadcasts reach other nodes and the old node\'s own sessions once', { timeout: 30_000 }, async () => {
    const prefix = 'redis3-handover-write';
    const [a, b, c] = [await redisNode(redis.url, prefix), await redisNode(redis.url, prefix), await redisNode(redis.url, prefix)];
    const handled: number[] = [];
    for (const n of [a, b, c]) (track(n.server), app(n.server as unknown as WirefallServer<Api>, handled));
    const onA = await observer(a.url);
    const onC = await observer(c.url);
    const moving = await rawHello(a.url);
    const { sid, key } = moving.welcome;
    moving.c.ws.send('{"t":"ack","a":0}');
    await claimed(a.server, 2);
    await claimed(c.server, 1);
    // Node a's commits of this session do not return (Redis slow), and its hand-over write fails.
    const sessions = a.store.sessions;
    const commit = sessions.commit.bind(sessions);
    sessions.commit = (id, ...rest) => (id === sid ? new Promise(() => {}) : commit(id, ...rest));
    sessions.park = () => Promise.reject(new Error('injected: Redis failed between giving the session up and writing it'));
    moving.c.ws.send(msg(1, 'echo', { n: 1 })); // its commit is in flight for ever
    await eventually(() => handled.includes(1), 5000, 'message 1 handled on a');
    moving.c.ws.send(msg(2, 'say', { text: 'two' })); // handled; its broadcast waits for the commit
    // The client resumes on b: a gives the session up, its write fails; b claims the last commit.
    const onB = await rawHello(b.url, { sid, key, ack: 0 });
    expect(onB.welcome.resumed).toBe(true);
    const ack = (onB.c.frames.find((f) => f.t === 'welcome') as { ack: number }).ack;
    expect(ack).toBe(0); // nothing was committed: the client resends both
    onB.c.ws.send(msg(1, 'echo', { n: 1 }));
    onB.c.ws.send(msg(2, 'say', { text: 'two' }));
    onB.c.ws.send(msg(3, 'say', { text: 'end' }));
    await eventually(() => said(onA.frames).includes('end') && said(onC.frames).includes('end'), 10_000, 'the last broadcast');
    // Before: ['two', 'two', 'end'] on both.
    expect(said(onC.frames)).toEqual(['two', 'end']);
    expect(said(onA.frames)).toEqual(['two', 'end']);
  });
});
