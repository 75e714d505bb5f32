/**
 * `npm run start:cluster` (examples/chat/cluster.mjs, from the build): redis-server, three node
 * processes and the round-robin balancer. A client on each rung gets through the balancer and
 * chats; a node stopped from the page's control moves its sessions to the others (nothing lost);
 * closing the demo stops redis-server too.
 */
import { connect as tcp } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { chromium } from 'playwright-core';
import { CHROMIUM_FLAGS, findChromium, INSTALL_LINE } from '../browser/chromium';
import { connect, type Client } from '../../src/index';
import { eventually, until } from '../support/harness';

type DemoApi = {
  client: { say: { text: string; id: string } };
  server: { said: { from: string; text: string; id: string }; hello: { name: string }; node: { node: string; rung: string } };
};

const opened: { close(): unknown }[] = [];
afterEach(async () => {
  for (const x of opened.splice(0).reverse()) await x.close();
});

const reachable = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = tcp(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });

describe('npm run start:cluster', () => {
  it('serves the chat through the balancer on every rung; a stopped node moves its sessions; close stops redis', async () => {
    // @ts-expect-error: a plain .mjs example, without declarations
    const { startCluster } = (await import('../../examples/chat/cluster.mjs')) as { startCluster: (o: object) => Promise<{ url: string; redis: string; nodes(): { name: string; up: boolean }[]; close(): Promise<void> }> };
    const cluster = await startCluster({ port: 0, log: () => {} });
    opened.push(cluster);
    expect(cluster.nodes().map((n) => n.up)).toEqual([true, true, true]);
    // The page is served through the balancer.
    const page = await fetch(cluster.url);
    expect(await page.text()).toMatch(/id="cluster"/);

    const clients: { c: Client<DemoApi>; said: string[]; nodes: string[] }[] = [];
    for (const rung of ['ws', 'sse', 'longpoll'] as const) {
      const c = connect<DemoApi>(`${cluster.url}wirefall`, { WebSocket: WebSocket as never, transports: [rung] });
      opened.push(c);
      const entry = { c, said: [] as string[], nodes: [] as string[] };
      c.subscribe('said', (m) => void entry.said.push(m.id));
      c.subscribe('node', (m) => void entry.nodes.push(m.node));
      clients.push(entry);
      await until(c, 'open', 15_000);
    }
    await eventually(() => clients.every((e) => e.nodes.length > 0), 10_000, 'every client told its node');
    for (const [i, e] of clients.entries()) void e.c.send('say', { text: `hi ${i}`, id: `first-${i}` });
    // Broadcasts cross nodes through Redis: everyone hears all three.
    await eventually(() => clients.every((e) => ['first-0', 'first-1', 'first-2'].every((id) => e.said.includes(id))), 15_000, 'three broadcasts everywhere');

    // The page, in Chromium: it shows the node that holds its session and the one that answered.
    const executablePath = findChromium();
    if (!executablePath) throw new Error(`no Chromium: ${INSTALL_LINE}`);
    const browser = await chromium.launch({ executablePath, args: CHROMIUM_FLAGS });
    opened.push(browser);
    const tab = await browser.newPage();
    await tab.goto(cluster.url);
    await tab.waitForFunction(() => /session is on node [abc] \(/.test(document.getElementById('session-node')?.textContent ?? ''), undefined, { timeout: 15_000 });
    expect(await tab.locator('#nodes .node').count()).toBe(3);
    expect(await tab.locator('#session-node').textContent()).toMatch(/answered by node [abc]/);
    await browser.close();
    opened.splice(opened.indexOf(browser), 1);

    // The page's control stops the node that holds the long-polling client's session (gracefully).
    const lp = clients[2]!;
    const holder = lp.nodes.at(-1)!;
    const res = await fetch(`${cluster.url}demo/node`, { method: 'POST', body: JSON.stringify({ node: holder, action: 'stop' }), headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(200);
    await eventually(() => cluster.nodes().find((n) => n.name === holder)!.up === false, 10_000, 'the node down');
    await eventually(() => lp.nodes.length > 1 && lp.nodes.at(-1) !== holder, 20_000, 'the session on another node');
    // Every session of the stopped node moved (a broadcast reaches a session that is between
    // nodes only once it has arrived: docs/scaling.md §4), so wait until all are settled.
    await eventually(() => clients.every((e) => e.c.state === 'open' && e.nodes.at(-1) !== holder), 20_000, 'every session off the stopped node');
    for (const [i, e] of clients.entries()) void e.c.send('say', { text: `again ${i}`, id: `second-${i}` });
    await eventually(() => clients.every((e) => ['second-0', 'second-1', 'second-2'].every((id) => e.said.includes(id))), 20_000, 'broadcasts after the stop').catch((err) => {
      throw new Error(`${(err as Error).message}: ${JSON.stringify(clients.map((e) => ({ state: e.c.state, nodes: e.nodes, said: e.said })))}`);
    });
    // Nothing doubled: each id heard once by each client.
    for (const e of clients) expect(new Set(e.said).size).toBe(e.said.length);
    // The state poll reports the stopped node, and a restart brings it back.
    const st = (await (await fetch(`${cluster.url}demo/state`)).json()) as { node: string; nodes: { name: string; up: boolean }[] };
    expect(st.nodes.find((n) => n.name === holder)!.up).toBe(false);
    expect(st.node).not.toBe(holder);
    await fetch(`${cluster.url}demo/node`, { method: 'POST', body: JSON.stringify({ node: holder, action: 'start' }) });
    await eventually(() => cluster.nodes().every((n) => n.up), 15_000, 'the node back');

    for (const e of clients) await e.c.close();
    opened.splice(1);
    const redisPort = Number(new URL(cluster.redis).port);
    expect(await reachable(redisPort)).toBe(true);
    await cluster.close();
    opened.length = 0;
    expect(await reachable(redisPort)).toBe(false);
  }, 90_000);
});
