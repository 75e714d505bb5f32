import { afterEach, describe, expect, onTestFailed, test } from 'vitest';
import type { RungName } from '../../src/index';
import { startLab } from '../../lab';
import { startNode, type NodeProcess } from '../support/cluster';
import { cleanup, eventually, track, until } from '../support/harness';
import { redisForFile } from '../support/redis-server';
import { claimed, cluster, expectExact, pump, range, settledAll, stats, streamer } from '../support/streamers';

/*
 * Sessions that move between node processes (Redis store), behind a round-robin TCP balancer
 * without stickiness: every reconnect lands on the next node. Real redis-server, real processes.
 * The proof of docs/scaling.md §5: nothing lost, doubled or reordered, either way, for direct
 * messages, broadcasts and room messages, across `kill -9` and a rolling restart.
 */

const redis = redisForFile();
afterEach(cleanup);

const RUNGS: RungName[] = ['ws', 'sse', 'longpoll'];

describe('sessions move between nodes (Redis store, round-robin balancer)', () => {
  test('kill -9 of a node mid-stream, then a rolling restart of all three, every rung: 0 lost, doubled or reordered either way, broadcasts and rooms included; no sessionlost', { timeout: 150_000 }, async () => {
    const { nodes, lb } = await cluster(['n0', 'n1', 'n2'], redis.url);
    const N = 500;
    const clients = range(6).map((i) => streamer(lb.url, `c${i}-${RUNGS[i % 3]}`, RUNGS[i % 3]));
    await Promise.all(clients.map((s) => until(s.c, 'open', 10_000)));
    await claimed(clients);
    // The even ones are in room r; membership must move with the sessions.
    const members = clients.filter((_, i) => i % 2 === 0);
    await Promise.all(members.map((s) => s.c.send('join', { room: 'r' })));
    let phase = 0;
    const stopped: NodeProcess[] = [];
    // A fifth of the traffic before the kill, a fifth after it and after each restart.
    const pumps = clients.map((s) => pump(s, N, 15, (i) => i < ((phase + 1) * N) / 5));
    const midStream = () => eventually(() => clients.every((s) => s.sends.length >= ((phase + 1) * N) / 5 - 10), 30_000, `traffic of phase ${phase}`);
    const log: string[] = [];
    const all: NodeProcess[] = [...nodes];
    // Every node's lines, in time order (each starts with its time).
    if (process.env.DEBUG_NODES) onTestFailed(() => console.log(all.flatMap((n) => n.log).sort().join('\n')));
    try {
      await midStream();
      // kill -9 the node that holds client 0's session (it answers client 0's requests, wherever they land).
      const victim = (await stats(clients[0]!)).node;
      const v = nodes.findIndex((n) => n.name === victim);
      await nodes[v]!.kill();
      log.push(`killed ${victim}`);
      nodes[v] = track(await startNode(`${victim}'`, redis.url));
      all.push(nodes[v]!);
      phase++;
      for (let i = 0; i < nodes.length; i++) {
        await midStream();
        const old = nodes[i]!;
        expect(await old.stop()).toBe(0); // SIGTERM: server.close() parks its sessions
        stopped.push(old);
        log.push(`stopped ${old.name}`);
        nodes[i] = track(await startNode(`${old.name}+`, redis.url));
        all.push(nodes[i]!);
        phase++;
      }
      await Promise.all(pumps);
      expect((await settledAll(clients)).slice(0, 3)).toEqual([]);
      await eventually(() => clients.every((s) => s.down.length >= N), 30_000, 'every echo');
      // Fan-out arrives after the echo it follows; wait for the last of each sender.
      await eventually(() => clients.every((s) => clients.every((t) => s.said[t.name]?.at(-1) === t.sentSay.at(-1))), 30_000, 'the last broadcasts');
      await eventually(() => members.every((s) => clients.every((t) => t === s || s.shouted[t.name]?.at(-1) === t.sentShout.at(-1))), 30_000, 'the last room messages');
    } catch (err) {
      throw new Error(`${(err as Error).message}; ${log.join(', ')}; ${clients.map((s) => `${s.name}: ${s.down.length} ${s.c.state} lost ${s.lost}${s.lostWhy.length ? ` (${s.lostWhy.join(' | ')})` : ''}`).join(', ')}; ${all.flatMap((n) => n.log.filter((l) => /found no session|not durable|taking a session over failed|store/.test(l))).slice(0, 10).join(' | ')}`);
    }
    for (const s of clients) expectExact(s, clients, members, N);
    expect(phase).toBe(4);
    // The sessions really moved: each stopped node counts the sessions that left it (those the
    // app had heard of there: one that arrived and left again before its client spoke is not).
    const movedOut = stopped.map((n) => Number(/moved out: (\d+)/.exec(n.log.join('\n'))?.[1] ?? -1));
    expect(movedOut.every((k) => k >= 0)).toBe(true);
    expect(movedOut.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(clients.length / 2);
    const after = await Promise.all(clients.map(stats));
    // HTTP-rung requests reached nodes other than their session's, and were sent on to it;
    // sessions were taken over from the store (the killed node's among them).
    expect(after.reduce((a, m) => a + m.forwarded, 0)).toBeGreaterThan(0);
    expect(after.reduce((a, m) => a + m.takeovers, 0)).toBeGreaterThan(0);
    expect(nodes.every((n) => n.alive())).toBe(true);
  });

  test('a cut sends the client to another node: the live owner hands the session over, on every rung', { timeout: 90_000 }, async () => {
    const { lb, nodes } = await cluster(['n0', 'n1', 'n2'], redis.url);
    if (process.env.DEBUG_NODES) onTestFailed(() => console.log(nodes.map((n) => n.log.slice(0, 30).join('\n')).join('\n---\n')));
    const lab = track(await startLab({ upstream: { host: '127.0.0.1', port: lb.port } }));
    const N = 400;
    const clients = range(6).map((i) => streamer(`${lab.url}/wirefall`, `c${i}-${RUNGS[i % 3]}`, RUNGS[i % 3]));
    await Promise.all(clients.map((s) => until(s.c, 'open', 10_000)));
    await claimed(clients);
    const members = clients.filter((_, i) => i % 2 === 0);
    await Promise.all(members.map((s) => s.c.send('join', { room: 'r' })));
    let cuts = 0;
    const pumps = clients.map((s) => pump(s, N, 10, (i) => i < ((cuts + 1) * N) / 5));
    for (; cuts < 4; ) {
      await eventually(() => clients.every((s) => s.sends.length >= ((cuts + 1) * N) / 5 - 10), 30_000, 'traffic before the cut');
      await Promise.all(clients.map((s) => until(s.c, 'open', 10_000)));
      lab.cutAll();
      cuts++;
    }
    await Promise.all(pumps);
    expect((await settledAll(clients)).slice(0, 3)).toEqual([]);
    await eventually(() => clients.every((s) => s.down.length >= N), 30_000, 'every echo');
    await eventually(() => clients.every((s) => clients.every((t) => s.said[t.name]?.at(-1) === t.sentSay.at(-1))), 30_000, 'the last broadcasts');
    await eventually(() => members.every((s) => clients.every((t) => t === s || s.shouted[t.name]?.at(-1) === t.sentShout.at(-1))), 30_000, 'the last room messages');
    for (const s of clients) expectExact(s, clients, members, N);
    // Sessions were handed over between live nodes (each node counts the ones it gave away).
    const moved = await Promise.all(clients.map(stats));
    expect(lab.stats.cuts).toBeGreaterThanOrEqual(4);
    expect(moved.some((m) => m.movedOut > 0)).toBe(true);
  });
});
