import { createClient } from 'redis';
import { afterEach, describe, expect, test } from 'vitest';
import type { RungName } from '../../src/index';
import { startNode } from '../support/cluster';
import { cleanup, eventually, track, until } from '../support/harness';
import { redisForFile } from '../support/redis-server';
import { cluster, pump, range, settledAll, sleep, stats, streamer, type Streamer } from '../support/streamers';

/*
 * Redis itself restarts or goes away under a cluster of node processes (docs/scaling.md §5): no
 * node crashes, clients reconnect, and a session that could not survive is reported to the app
 * through `sessionlost`, never dropped silently. Real redis-server (no persistence: a restart
 * comes back empty, the worst case), real processes, a round-robin balancer.
 */

const redis = redisForFile();
afterEach(cleanup);

/** Never doubled or reordered; a gap only where the client reported the session lost. */
function expectNoSilentLoss(s: Streamer, n: number): void {
  expect({ name: s.name, sorted: s.down }).toEqual({ name: s.name, sorted: [...new Set(s.down)].sort((a, b) => a - b) });
  if (s.lost === 0) expect({ name: s.name, down: s.down }).toEqual({ name: s.name, down: range(n) });
}

describe('Redis restarts or goes away under several nodes', () => {
  test('Redis restarts empty mid-stream, then a node is killed: nodes live on, clients reconnect, no session is lost; sessions are durable again once Redis is back', { timeout: 120_000 }, async () => {
    const { nodes, lb } = await cluster(['n0', 'n1', 'n2'], redis.url);
    const RUNGS: RungName[] = ['ws', 'sse', 'longpoll'];
    const N = 300;
    const clients = range(6).map((i) => streamer(lb.url, `c${i}-${RUNGS[i % 3]}`, RUNGS[i % 3]));
    await Promise.all(clients.map((s) => until(s.c, 'open', 10_000)));
    let phase = 0;
    const pumps = clients.map((s) => pump(s, N, 10, (i) => i < ((phase + 1) * N) / 3));
    const midStream = () => eventually(() => clients.every((s) => s.sends.length >= ((phase + 1) * N) / 3 - 10), 30_000, `traffic of phase ${phase}`);
    await midStream();
    await redis.kill();
    try {
      phase++;
      await sleep(1000); // traffic goes on within each node while Redis is away
    } finally {
      await redis.restart();
    }
    // Back, and empty: each live session writes itself whole again (durable.ts). Client 0's is.
    const probe = createClient({ url: redis.url });
    track({ close: () => probe.close().then(() => {}, () => {}) });
    await probe.connect();
    await Promise.all(clients.map((s) => until(s.c, 'open', 15_000)));
    const { sid, node: victim } = await stats(clients[0]!);
    let durable = false;
    await eventually(() => (void probe.exists(`wft:s:${sid}`).then((n) => (durable = n === 1)), durable), 15_000, 'client 0\'s session written again');
    await midStream();
    // kill -9 the node holding client 0's session: it resumes elsewhere from its record.
    const v = nodes.findIndex((n) => n.name === victim);
    const lostBefore = clients[0]!.lost;
    await nodes[v]!.kill();
    nodes[v] = track(await startNode(`${victim}'`, redis.url));
    phase++;
    await Promise.all(pumps);
    const rejected = await settledAll(clients);
    // Every send settled; only a reported loss rejects one.
    for (const r of rejected) expect(r).toContain('WF_SESSION_LOST');
    await eventually(() => clients.every((s) => s.down.includes(N - 1)), 30_000, 'the last echo');
    for (const s of clients) expectNoSilentLoss(s, N);
    if (process.env.WIREFALL_REPORT) console.log(`Redis restart: sessionlost per client ${clients.map((s) => `${s.name} ${s.lost}`).join(', ')}; ${rejected.length} sends rejected as lost`);
    expect(clients[0]!.lost).toBe(lostBefore); // the kill -9 after Redis came back cost nothing
    // Nor did the restart itself: a resume that could not be looked up meanwhile was refused for a
    // moment (storeGraceMs), and each owner wrote its sessions whole again once Redis answered.
    // (With the nodes' logs when one was: they say which step failed.)
    const logs = clients.some((s) => s.lost > 0) ? nodes.flatMap((n) => n.log.map((l) => `${n.name}: ${l}`)) : [];
    expect({ lost: clients.map((s) => `${s.name} ${s.lost}`), logs }).toEqual({ lost: clients.map((s) => `${s.name} 0`), logs: [] });
    expect(nodes.every((n) => n.alive())).toBe(true);
  });

  test('Redis away during a restart: the sessions that could not be left in it are reported lost, the nodes live on', { timeout: 60_000 }, async () => {
    // Resumes are refused while Redis is away for 1 s (storeGraceMs), then given new sessions.
    const grace = { STORE_GRACE_MS: '1000' };
    const { nodes, lb } = await cluster(['n0', 'n1'], redis.url, grace);
    const clients = range(4).map((i) => streamer(lb.url, `c${i}`));
    await Promise.all(clients.map((s) => until(s.c, 'open', 10_000)));
    await Promise.all(clients.map((s) => pump(s, 50, 5, () => true)));
    await eventually(() => clients.every((s) => s.down.length === 50), 10_000, 'echoes before');
    await redis.kill();
    try {
      expect(await nodes[0]!.stop()).toBe(0); // cannot park its sessions: it says so, and exits cleanly
      expect(nodes[0]!.log.some((l) => l.includes('failed'))).toBe(true);
      nodes[0] = track(await startNode("n0'", redis.url, { OPEN_TIMEOUT_MS: '300', ...grace }));
      // The clients of the stopped node resume elsewhere, find nothing, and say so.
      await eventually(() => clients.filter((s) => s.lost > 0).length >= 1, 15_000, 'sessionlost on the moved clients');
      await Promise.all(clients.map((s) => until(s.c, 'open', 10_000)));
      await Promise.all(clients.map((s) => s.c.send('echo', { n: 50 })));
      await eventually(() => clients.every((s) => s.down.at(-1) === 50), 10_000, 'echoes after');
      for (const s of clients) expect(s.down).toEqual(range(51));
      expect(nodes.every((n) => n.alive())).toBe(true);
    } finally {
      await redis.restart();
    }
  });
});
