import { afterEach, describe, expect, test } from 'vitest';
import { createClient } from 'redis';
import type { Client, RungName } from '../../src/index';
import { cleanup, client, eventually, startServer, track, until } from '../support/harness';
import { startBalancer } from '../../lab/balancer';
import { ackedTwo, raw } from '../support/raw';
import { startNode, type NodeProcess } from '../support/cluster';
import type { ClusterApi } from '../support/cluster-node';
import { redisForFile } from '../support/redis-server';
import { redisStore } from '../../src/server/redis';
import type { FanOutEntry, SessionState } from '../../src/server/index';

/*
 * The Redis store with real components: Debian's redis-server on a loopback port, each server
 * node a process of its own. Fan-out (broadcasts and rooms) between nodes, and what a Redis outage
 * does to it. Clients stay on the node they first reached here; sessions that move between nodes
 * are handover.test.ts's.
 */

const redis = redisForFile();
afterEach(cleanup);

type Heard = { said: { from: string; n: number }[]; shouted: { from: string; n: number }[] };

function named(node: NodeProcess, name: string, rung: RungName): { c: Client<ClusterApi>; heard: Heard } {
  const c = client<ClusterApi>(node.url, { transports: [rung], auth: name, reconnect: { base: 50, max: 200 } });
  const heard: Heard = { said: [], shouted: [] };
  c.subscribe('said', (m) => heard.said.push(m));
  c.subscribe('shouted', (m) => heard.shouted.push({ from: m.from, n: m.n }));
  return { c, heard };
}

/** The `n`s each sender's messages arrived with, in arrival order. */
function bySender(list: { from: string; n: number }[]): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const m of list) (out[m.from] ??= []).push(m.n);
  return out;
}

/**
 * Open, and announced by its node: a session gets broadcasts once its client has spoken on it
 * (protocol.md §4, claims), half a round trip after `open`. A round trip makes sure.
 */
async function ready(...cs: Client<ClusterApi>[]) {
  await Promise.all(cs.map((c) => until(c, 'open', 10_000)));
  await Promise.all(cs.map((c) => stats(c)));
}

const range = (n: number, from = 0) => Array.from({ length: n }, (_, i) => from + i);

async function stats(c: Client<ClusterApi>) {
  const answer = new Promise<ClusterApi['server']['stats']>((resolve) => {
    const off = c.subscribe('stats', (s) => (off(), resolve(s)));
  });
  await c.send('stats', {});
  return answer;
}

describe('Redis store: fan-out between node processes', () => {
  test('broadcasts and room messages reach every node and every rung, each once, in each sender\'s order', async () => {
    const nodes = await Promise.all(['n0', 'n1', 'n2'].map((n) => startNode(n, redis.url).then(track)));
    const a = named(nodes[0]!, 'a', 'ws');
    const b = named(nodes[1]!, 'b', 'sse');
    const c = named(nodes[2]!, 'c', 'longpoll');
    const d = named(nodes[1]!, 'd', 'ws'); // in no room
    const all = [a, b, c, d];
    await ready(...all.map((x) => x.c));
    await Promise.all([a, b, c].map(({ c }) => c.send('join', { room: 'r' })));
    // A join reaches other nodes' publishers once this node's SSUBSCRIBE is in place: wait for
    // Redis to count the three nodes as the room channel's subscribers.
    const probe = createClient({ url: redis.url });
    probe.on('error', () => {});
    track({ close: () => (probe.isOpen ? probe.destroy() : undefined) });
    await probe.connect();
    let subscribers = 0;
    const poll = setInterval(() => void probe.pubSubShardNumSub('wft:room:r').then((r) => (subscribers = Number(r['wft:room:r'] ?? 0))), 20);
    try {
      await eventually(() => subscribers === 3, 10_000, 'three subscribers of the room');
    } finally {
      clearInterval(poll);
    }

    const N = 200;
    const M = 100;
    const sends: Promise<void>[] = [];
    for (let n = 0; n < N; n++) {
      for (const x of all) sends.push(x.c.send('say', { n }));
      if (n < M) for (const x of [a, b, c]) sends.push(x.c.send('shout', { room: 'r', n }));
    }
    await Promise.all(sends);
    await eventually(() => all.every((x) => x.heard.said.length >= 4 * N) && [a, b, c].every((x) => x.heard.shouted.length >= 2 * M), 20_000, 'every message everywhere');
    for (const x of all) expect(bySender(x.heard.said)).toEqual({ a: range(N), b: range(N), c: range(N), d: range(N) });
    expect(bySender(a.heard.shouted)).toEqual({ b: range(M), c: range(M) });
    expect(bySender(b.heard.shouted)).toEqual({ a: range(M), c: range(M) });
    expect(bySender(c.heard.shouted)).toEqual({ a: range(M), b: range(M) });
    expect(d.heard.shouted).toEqual([]);
    for (const x of all) expect(x.c.state).toBe('open');
    for (const s of await Promise.all([a, b, c].map((x) => stats(x.c)))) expect(s.dropped).toBe(0);
    expect(nodes.every((n) => n.alive())).toBe(true);
  });

  test('Redis killed and started again: no node crashes, clients stay open, local delivery goes on, lost fan-out is counted, cross-node fan-out returns', async () => {
    const [n0, n1] = await Promise.all(['n0', 'n1'].map((n) => startNode(n, redis.url).then(track)));
    const x = named(n0!, 'x', 'ws');
    const y = named(n1!, 'y', 'sse');
    await ready(x.c, y.c);
    // Both nodes are subscribed (their `listen` waited for the store): a first message crosses.
    await x.c.send('say', { n: 0 });
    await eventually(() => y.heard.said.length === 1, 5000, 'first message across');

    await redis.kill();
    // While Redis is away: x's node still delivers to its own sessions; y's cannot hear it.
    await Promise.all(range(10, 1).map((n) => x.c.send('say', { n })));
    await eventually(() => x.heard.said.length === 11, 5000, 'local delivery without Redis');
    expect(bySender(x.heard.said)).toEqual({ x: range(11) });
    // Counted when the publish fails: at once once the node noticed Redis is gone, else when
    // the connection's end rejects what was in flight.
    let dropped = 0;
    for (const end = Date.now() + 5000; dropped < 10 && Date.now() < end; ) {
      dropped = (await stats(x.c)).dropped;
      if (dropped < 10) await new Promise((r) => setTimeout(r, 50));
    }
    expect(dropped).toBeGreaterThanOrEqual(10);
    expect([n0!.alive(), n1!.alive(), x.c.state, y.c.state]).toEqual([true, true, 'open', 'open']);

    await redis.restart();
    // The nodes reconnect with backoff (≤ 2 s) and subscribe again: send until one crosses.
    let n = 100;
    await eventually(() => {
      if (y.heard.said.some((m) => m.n >= 100)) return true;
      void x.c.send('say', { n: n++ }).catch(() => {});
      return false;
    }, 15_000, 'fan-out back after Redis returned');
    const first = n;
    await Promise.all(range(20, first).map((k) => x.c.send('say', { n: k })));
    await eventually(() => y.heard.said.some((m) => m.n === first + 19), 5000, 'the rest across');
    const after = bySender(y.heard.said).x!.filter((k) => k >= first);
    expect(after).toEqual(range(20, first)); // once each, in order
    expect(bySender(y.heard.said).x!.filter((k) => k >= 1 && k <= 10)).toEqual([]); // dropped, never replayed late
    expect([n0!.alive(), n1!.alive(), x.c.state, y.c.state]).toEqual([true, true, 'open', 'open']);
    expect(n0!.log.some((l) => l.includes('redis store'))).toBe(true);
  });

  test('a node started while Redis is down starts anyway and joins the fan-out once Redis answers', async () => {
    await redis.kill();
    try {
      const n0 = track(await startNode('n0', redis.url, { OPEN_TIMEOUT_MS: '300' }));
      const x = named(n0, 'x', 'longpoll');
      await ready(x.c);
      await x.c.send('say', { n: 0 });
      await eventually(() => x.heard.said.length === 1, 5000, 'local delivery');
      expect(n0.log.some((l) => l.includes('starting anyway'))).toBe(true);
      await redis.restart();
      const n1 = track(await startNode('n1', redis.url));
      const y = named(n1, 'y', 'ws');
      await ready(y.c);
      let n = 1;
      await eventually(() => {
        if (y.heard.said.length) return true;
        void x.c.send('say', { n: n++ }).catch(() => {});
        return false;
      }, 15_000, 'the late node heard elsewhere');
    } finally {
      await redis.restart();
    }
  });
});

describe('Redis store: a session that moves gets every fan-out entry once, from the log', () => {
  test('the new node delivers what was published after the old node\'s position, and nothing before it', async () => {
    const { a, b, heard, caught, lost } = await twoNodes('floor');
    a.publish({ type: 't', payload: '1' });
    a.publish({ type: 't', payload: '2' });
    await eventually(() => heard.b.length === 2, 5000, 'entries at b');
    // Session s leaves a (which delivered entries 1 and 2 of its own) …
    await park(a);
    // … entries 3 and 4 are published while it is between nodes …
    a.publish({ type: 't', payload: '3' });
    a.publish({ type: 't', payload: '4' });
    await eventually(() => heard.b.length === 4, 5000, 'entries 3 and 4 at b');
    // … and it arrives at b, which delivers exactly those two from the log, in order.
    const taken = await b.sessions.take('s', 'kh', '"u"', { ttlMs: 60_000 });
    expect(taken?.fanout).toMatchObject({ node: a.nodeId, seq: 2 });
    expect(taken?.epoch).toBe(1);
    await eventually(() => caught.length >= 2, 5000, 'the catch-up');
    expect(caught).toEqual(['s:3', 's:4']);
    // Entries from now on are live: not skipped.
    expect(b.skips('s', { type: 't', payload: '5', origin: { node: a.nodeId, seq: 5 }, id: '9999999999999-0' })).toBe(false);
    expect(b.stats.caughtUp).toBe(2);
    expect(lost).toEqual([]);
  });

  test('a session whose place the fan-out log trimmed away while it moved is ended (its client hears sessionlost), not left with a gap', async () => {
    // A log of about 10 entries: Redis trims whole nodes of 100 (`MAXLEN ~`), so 300 entries are enough.
    const { a, b, heard, caught, lost } = await twoNodes('trim', { fanoutLog: 10 });
    a.publish({ type: 't', payload: '1' });
    await eventually(() => heard.b.length === 1, 5000, 'entry 1 at b');
    await park(a);
    for (let i = 2; i <= 301; i++) a.publish({ type: 't', payload: String(i) });
    await eventually(() => heard.b.length === 301, 10_000, 'the 300 entries at b');
    const taken = await b.sessions.take('s', 'kh', '"u"', { ttlMs: 60_000 });
    expect(taken?.fanout).toMatchObject({ node: a.nodeId, seq: 1 });
    await eventually(() => lost.length === 1, 5000, 'the session reported lost');
    expect(lost[0]).toMatch(/^s: the fan-out log no longer has/);
    // Nothing of what the log still had was handed to it: a session with a hole is not a session to go on with.
    expect(caught).toEqual([]);
    expect(b.stats.lost).toBe(1);
    expect(b.skips('s', { type: 't', payload: 'later', origin: { node: a.nodeId, seq: 400 }, id: '9999999999999-0' })).toBe(true);
  });

  test('a session that left an empty log catches up on what was published meanwhile (nothing trimmed: nothing lost)', async () => {
    const { a, b, heard, caught, lost } = await twoNodes('empty');
    // Parked before anything was ever published: its place is the log's start, which is no entry.
    await park(a);
    for (let i = 1; i <= 3; i++) a.publish({ type: 't', payload: String(i) });
    await eventually(() => heard.b.length === 3, 5000, 'the entries at b');
    await b.sessions.take('s', 'kh', '"u"', { ttlMs: 60_000 });
    await eventually(() => caught.length >= 3, 5000, 'the catch-up');
    expect(caught).toEqual(['s:1', 's:2', 's:3']);
    expect(lost).toEqual([]);
  });

  test('end to end: the client of a session that missed trimmed fan-out hears sessionlost and goes on in a new session', { timeout: 30_000 }, async () => {
    const bStore = redisStore({ url: redis.url, prefix: 'trim-e2e', fanoutLog: 10 });
    const a = await startServer({ store: redisStore({ url: redis.url, prefix: 'trim-e2e', fanoutLog: 10 }) });
    const b = await startServer({ store: bStore });
    track(b.server);
    const ids: string[] = [];
    a.server.on('connection', (conn) => ids.push(conn.id));
    let target = [a.port];
    const lb = track(await startBalancer(() => target));
    const c = client(lb.url, { reconnect: { base: 50, max: 200 } });
    const lost: unknown[] = [];
    c.on('sessionlost', (u) => lost.push(u));
    await until(c, 'open', 10_000);
    await eventually(() => ids.length === 1, 5000, 'the session claimed on node a');
    // Nowhere to go while node a parks the session and 300 broadcasts wrap the log.
    target = [];
    await a.server.close();
    for (let i = 0; i < 300; i++) b.server.broadcast('said', { from: 'b', text: String(i) });
    const r = createClient({ url: redis.url });
    await r.connect();
    for (const end = Date.now() + 5000; (await r.xLen('trim-e2e:log')) >= 300; ) {
      if (Date.now() > end) throw new Error('the log was not trimmed');
      await new Promise((done) => setTimeout(done, 20));
    }
    await r.quit();
    target = [b.port];
    await eventually(() => lost.length === 1, 15_000, 'sessionlost');
    await until(c, 'open', 10_000);
    expect(c.state).toBe('open');
    expect([...b.server.connections].map((conn) => conn.id)).not.toContain(ids[0]);
    expect(bStore.stats.lost).toBe(1);
  });
});

describe('a tab-shared session on the Redis store', () => {
  test('keeps no acknowledged messages: a resume behind its ack gets a new session (reported), since the record no longer has them', async () => {
    const { server, url } = await startServer({ store: redisStore({ url: redis.url, prefix: 'tabs' }), authenticate: () => ({ id: 'u' }) });
    track(server);
    server.on('connection', (c) => void c.send('said', { from: 'server', text: 'one' }).then(() => c.send('said', { from: 'server', text: 'two' })).catch(() => {}));
    const { sid, key } = await ackedTwo(url, { tabs: 1 });
    const next = await raw(url);
    next.ws.send(JSON.stringify({ t: 'hello', v: 3, sid, key, ack: 1, race: 'rb', fence: 1, tabs: 1 }));
    await eventually(() => next.frames.length >= 2, 5000, 'the next leader\'s welcome');
    expect(next.frames[1]).toMatchObject({ t: 'welcome', resumed: false });
    expect(next.frames[1]!.sid).not.toBe(sid);
  });
});

/**
 * Two stores on one Redis under `prefix`, each opened with a stand-in node: what each node was
 * given, what the catch-up handed to a session, and which sessions it was told to end.
 */
async function twoNodes(prefix: string, options: { fanoutLog?: number } = {}) {
  const heard: Record<'a' | 'b', FanOutEntry[]> = { a: [], b: [] };
  const caught: string[] = [];
  const lost: string[] = [];
  const node = (name: 'a' | 'b') => ({
    deliver: (e: FanOutEntry) => void heard[name].push(e),
    deliverTo: (id: string, e: FanOutEntry) => void caught.push(`${id}:${e.payload}`),
    lose: (id: string, why: string) => void lost.push(`${id}: ${why}`),
    logger: { warn: () => {} }, surrender: () => undefined,
  });
  const a = redisStore({ url: redis.url, prefix, ...options });
  const b = redisStore({ url: redis.url, prefix, ...options });
  track({ close: () => Promise.all([a.close(), b.close()]).then(() => {}) });
  await a.open(node('a'));
  await b.open(node('b'));
  return { a, b, heard, caught, lost };
}

/** Session `s` (key hash `kh`, user "u") leaves node `from` for the store, as at a node's shutdown. */
async function park(from: ReturnType<typeof redisStore>): Promise<void> {
  const state: SessionState = { v: 1, id: 's', keyHash: 'kh', identity: '"u"', user: '"u"', received: 0, outbox: { next: 1, acked: 0, entries: [] }, rooms: [] };
  await from.sessions.park([state], 10_000);
}
