/**
 * Metrics on three real nodes (their own processes, Redis store, attached to an HTTP server of
 * their own that answers /metrics) behind the round-robin balancer: take-overs between nodes are
 * counted on both sides, sessions by rung add up over the nodes, and an attached node announces
 * itself so that HTTP-rung requests are forwarded to it.
 */
import { afterEach, describe, expect, test } from 'vitest';
import type { RungName } from '../../src/index';
import { startLab } from '../../lab';
import { startBalancer } from '../support/balancer';
import { startNode, type NodeProcess } from '../support/cluster';
import type { ClusterApi } from '../support/cluster-node';
import { cleanup, client, eventually, track, until } from '../support/harness';
import { redisForFile } from '../support/redis-server';

const redis = redisForFile();
afterEach(cleanup);

/** Until every rung has exactly one session over the fleet (a session between nodes is on neither for a moment). */
async function oneSessionPerRung(nodes: NodeProcess[], rungs: RungName[]): Promise<void> {
  const end = Date.now() + 10_000;
  for (;;) {
    const counts = await Promise.all(rungs.map((rung) => total(nodes, 'wirefall_sessions', `rung="${rung}"`)));
    if (counts.every((n) => n === 1)) return;
    if (Date.now() > end) throw new Error(`sessions by rung ${rungs.join('/')}: ${counts.join('/')}, wanted one each`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** One metric summed over the live nodes' /metrics (lines whose labels contain `match`). */
async function total(nodes: NodeProcess[], name: string, match = ''): Promise<number> {
  let sum = 0;
  for (const n of nodes.filter((x) => x.alive())) {
    const text = await (await fetch(`http://127.0.0.1:${n.port}/metrics`)).text();
    for (const line of text.split('\n')) if (line.startsWith(`${name}{`) && line.includes(match)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

describe('metrics across nodes', () => {
  test('take-overs in and out, parked at shutdown, sessions by rung over the fleet', async () => {
    const nodes = await Promise.all(['a', 'b', 'c'].map((name) => startNode(name, redis.url, { METRICS: '1' }).then(track)));
    const lb = track(await startBalancer(() => nodes.filter((n) => n.alive()).map((n) => n.port)));
    const lab = track(await startLab({ upstream: { host: '127.0.0.1', port: lb.port } }));
    const url = `${lab.url}/wirefall`;
    const rungs: RungName[] = ['ws', 'sse', 'longpoll'];
    const clients = rungs.map((rung, i) => client<ClusterApi>(url, { transports: [rung], auth: `u${i}`, reconnect: { base: 30, max: 150 } }));
    const echoes = clients.map(() => [] as number[]);
    clients.forEach((c, i) => c.subscribe('echoed', ({ n }) => void echoes[i]!.push(n)));
    await Promise.all(clients.map((c) => until(c, 'open', 15_000)));
    // Sessions by rung, over the fleet: one each (announced once the client speaks).
    for (const [i, c] of clients.entries()) void c.send('echo', { n: i });
    await eventually(() => echoes.every((e) => e.length === 1), 10_000, 'first echoes');
    await oneSessionPerRung(nodes, rungs);
    expect(await total(nodes, 'wirefall_attempts_total', 'outcome="verified"')).toBe(3);

    // A cut sends every client through the balancer again: to the next node, which takes the
    // session over from the live owner (in there, out here).
    // Where a reconnect lands depends on the balancer's turn (polls and POSTs take turns too), so
    // a cut may send every client back to its own node: cut again, a few times at most.
    let moved = 0;
    for (let cut = 0; cut < 6 && moved === 0; cut++) {
      lab.cutAll();
      await eventually(() => clients.every((c) => c.state !== 'open'), 5000, 'the cut').catch(() => {});
      await Promise.all(clients.map((c) => until(c, 'open', 15_000)));
      moved = await total(nodes, 'wirefall_takeovers_total', 'direction="in"');
    }
    for (const [i, c] of clients.entries()) void c.send('echo', { n: 10 + i });
    await eventually(() => echoes.every((e) => e.length === 2), 15_000, 'echoes after the cut');
    // Each take-over counts twice: out where the session left, in where it arrived. Two reads
    // are two moments, and a late reconnect between them counts on one side only (4 out against
    // 3 in, once, in a full run), so read both until they agree.
    let out = -1;
    for (const end = Date.now() + 10_000; ; await new Promise((r) => setTimeout(r, 100))) {
      [moved, out] = await Promise.all([total(nodes, 'wirefall_takeovers_total', 'direction="in"'), total(nodes, 'wirefall_takeovers_total', 'direction="out"')]);
      if (out === moved || Date.now() > end) break;
    }
    expect(moved).toBeGreaterThan(0);
    expect(out).toBe(moved);

    // A graceful stop parks the node's sessions; their clients resume elsewhere (counted `in`).
    const holder = nodes[0]!;
    // Counted on the nodes that stay: the stopped node's own counters go with it.
    const before = await total(nodes.slice(1), 'wirefall_takeovers_total', 'direction="in"');
    const onA = await total([holder], 'wirefall_sessions', '');
    await holder.stop();
    for (const [i, c] of clients.entries()) void c.send('echo', { n: 20 + i });
    await eventually(() => echoes.every((e) => e.length === 3), 20_000, 'echoes after the stop').catch((err: Error) => {
      throw new Error(`${err.message}: ${JSON.stringify({ echoes, states: clients.map((c) => [c.state, c.rung]), log: holder.log.slice(-5) })}`);
    });
    expect(await total(nodes.slice(1), 'wirefall_takeovers_total', 'direction="in"')).toBeGreaterThanOrEqual(before + onA);
    await oneSessionPerRung(nodes, rungs);
    expect(echoes).toEqual([[0, 10, 20], [1, 11, 21], [2, 12, 22]]);
  }, 60_000);
});
