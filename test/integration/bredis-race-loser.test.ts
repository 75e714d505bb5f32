import { createClient } from 'redis';
import { afterEach, describe, expect, test } from 'vitest';
import type { ApiShape } from '../../src/index';
import type { WirefallServer } from '../../src/server/index';
import { redisStore } from '../../src/server/redis';
import { cleanup, eventually, startServer, track } from '../support/harness';
import { raw } from '../support/raw';
import { redisForFile } from '../support/redis-server';

/*
 * A client that resumes races its rungs (core/race.ts): a second attempt starts when the first
 * has not verified within the stagger (250 ms), each with the same resume hello. Behind a
 * balancer without stickiness they land on different nodes. When the node that had the session
 * was killed, each of those nodes asks for it, hears nothing, and claims it after 1.5 s: the
 * attempt the client abandoned took the session from the one it adopted.
 */

const redis = redisForFile();
afterEach(cleanup);

type Echo = { client: { echo: { n: number } }; server: { echoed: { n: number } } };
const echo = (s: WirefallServer<Echo & ApiShape>) =>
  s.on('connection', (conn) => conn.subscribe('echo', ({ n }) => void conn.send('echoed', { n }).catch(() => {})));

describe('a race\'s losing attempt does not take the session from the winner', () => {
  test('two attempts wait on two nodes for a dead owner: the one abandoned meanwhile leaves the session to the one adopted', { timeout: 30_000 }, async () => {
    const prefix = 'bredis-race';
    const a = await startServer<Echo>({ store: redisStore({ url: redis.url, prefix }) });
    const bStore = redisStore({ url: redis.url, prefix });
    const cStore = redisStore({ url: redis.url, prefix });
    const b = await startServer<Echo>({ store: bStore });
    const said: string[] = [];
    const c = await startServer<Echo>({ store: cStore, logLevel: 'info', logger: { warn: () => {}, info: (m) => said.push(m) } });
    for (const s of [b, c]) track(s.server), echo(s.server);
    const first = await raw(a.url);
    first.ws.send('{"t":"hello","v":3}');
    await eventually(() => first.frames.some((f) => f.t === 'welcome'), 5000, 'the welcome on a');
    const { sid, key } = first.frames.find((f) => f.t === 'welcome') as { sid: string; key: string };
    first.ws.send('{"t":"ack","a":0}');
    // Node a "dies": its record names an owner that nobody is. The test plays that owner's part
    // on the hand-over channel, so that it decides when each asker's wait ends (as a dead owner's
    // silence would, 1.5 s after each ask: the second attempt started a stagger later).
    await a.server.close();
    const r = createClient({ url: redis.url });
    const sub = r.duplicate();
    track({ close: () => Promise.all([r.close(), sub.close()]).then(() => {}, () => {}) });
    await Promise.all([r.connect(), sub.connect()]);
    await r.hSet(`${prefix}:s:${sid}`, 'owner', 'killed-node');
    const asks = new Map<string, string>();
    await sub.sSubscribe(`${prefix}:handover`, (m) => {
      const { req, from } = JSON.parse(m) as { req: string; from: string };
      asks.set(from, req);
    });
    const answer = (node: string) => r.sPublish(`${prefix}:node:${node}`, JSON.stringify({ req: asks.get(node) }));
    const hello = JSON.stringify({ t: 'hello', v: 3, sid, key, ack: 0 });
    const won = await raw(b.url);
    won.ws.send(hello);
    const lost = await raw(c.url);
    lost.ws.send(hello);
    await eventually(() => asks.has(bStore.nodeId) && asks.has(cStore.nodeId), 5000, 'both nodes asking');
    // b's wait ends first: it claims the session and welcomes the client, which adopts it…
    await answer(bStore.nodeId);
    await eventually(() => won.frames.some((f) => f.t === 'welcome'), 5000, 'the welcome on b');
    // … and abandons its attempt on c; then c's wait ends (before: c claimed the session, and b's
    // link was fenced at its next commit: 4409, and the client moved again).
    lost.ws.close();
    await eventually(() => lost.closed() !== undefined, 5000, 'the abandoned attempt closed');
    const takeovers = cStore.stats.takeovers;
    await answer(cStore.nodeId);
    // c decides: it gives the resume up, or (before) takes the session.
    await eventually(() => said.some((m) => m.startsWith('a resume was abandoned')) || cStore.stats.takeovers > takeovers, 5000, 'c deciding');
    won.ws.send(JSON.stringify({ t: 'msg', s: 1, ev: 'echo', d: { n: 1 } }));
    await eventually(() => won.frames.some((f) => f.t === 'msg'), 5000, 'the echo on b');
    expect(won.closed()).toBeUndefined();
    expect(await r.hGet(`${prefix}:s:${sid}`, 'owner')).toBe(bStore.nodeId);
    expect(cStore.stats.takeovers).toBe(takeovers);
  });
});
