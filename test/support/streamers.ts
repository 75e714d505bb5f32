import { expect } from 'vitest';
import type { Client, RungName } from '../../src/index';
import { startBalancer } from './balancer';
import { startNode, type NodeProcess } from './cluster';
import type { ClusterApi } from './cluster-node';
import { client, track } from './harness';

/*
 * Clients that stream through a cluster of node processes (test/support/cluster.ts), and the
 * exactly-once checks of the multi-node proofs: direct traffic both ways, broadcasts, room messages.
 */

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const range = (n: number) => Array.from({ length: n }, (_, i) => i);
/** The bytes echo `n` carries: every 7th, 700–749 bytes, different per message. */
export const blobFor = (n: number) => (n % 7 ? undefined : Uint8Array.from({ length: 700 + (n % 50) }, (_, i) => (i * 13 + n) & 255));

export type Streamer = {
  name: string;
  c: Client<ClusterApi>;
  /** Echoes received (server → client), in arrival order. */
  down: number[];
  /** Echoes whose bytes did not come back as sent (every 7th echo carries some). */
  badBlobs: number[];
  /** `sessionlost` events. */
  lost: number;
  /** What the client saw when it heard `sessionlost` (a failure's evidence: its last attempts). */
  lostWhy: string[];
  sends: Promise<void>[];
  /** Broadcasts and room messages heard, by sender; and what this client asked to be sent. */
  said: Record<string, number[]>;
  shouted: Record<string, number[]>;
  sentSay: number[];
  sentShout: number[];
};

export function streamer(url: string, name: string, rung: RungName = 'ws'): Streamer {
  const c = client<ClusterApi>(url, { transports: [rung], auth: name, reconnect: { base: 30, max: 150 } });
  const s: Streamer = { name, c, down: [], badBlobs: [], lost: 0, lostWhy: [], sends: [], said: {}, shouted: {}, sentSay: [], sentShout: [] };
  c.subscribe('echoed', ({ n, blob }) => {
    s.down.push(n);
    const want = blobFor(n);
    if (want ? !blob || blob.length !== want.length || blob.some((b, i) => b !== want[i]) : blob) s.badBlobs.push(n);
  });
  c.subscribe('said', ({ from, n }) => (s.said[from] ??= []).push(n));
  c.subscribe('shouted', ({ from, n }) => (s.shouted[from] ??= []).push(n));
  c.on('sessionlost', (undelivered) => {
    s.lost++;
    const tried = c.attempts.slice(-4).map((a) => `${a.rung} ${a.outcome}${a.reason ? ` ${a.reason}` : ''}${a.status ? ` ${a.status}` : ''} ${a.duration} ms`);
    s.lostWhy.push(`at ${new Date().toISOString()} after echo ${s.down.at(-1)}, ${undelivered.length} undelivered; attempts: ${tried.join('; ')}`);
  });
  return s;
}

/**
 * Sends echo 0..n-1 in chunks of 10, `pace` ms apart, each chunk followed by a broadcast (`say`)
 * and a message to room r (`shout`); message i waits until `gate(i)`, so that the traffic spreads
 * over the test's restarts however fast the machine is.
 */
export async function pump(s: Streamer, n: number, pace: number, gate: (i: number) => boolean): Promise<void> {
  const deadline = Date.now() + 90_000;
  for (let i = 0; i < n; ) {
    if (!gate(i)) {
      if (Date.now() > deadline) throw new Error(`${s.name}: traffic held at ${i}`);
      await sleep(5);
      continue;
    }
    for (const end = Math.min(n, i + 10); i < end; i++) {
      const blob = blobFor(i);
      s.sends.push(s.c.send('echo', blob ? { n: i, blob } : { n: i }));
    }
    s.sentSay.push(i);
    s.sentShout.push(i);
    s.sends.push(s.c.send('say', { n: i }), s.c.send('shout', { room: 'r', n: i }));
    await sleep(pace);
  }
}

export async function cluster(names: string[], redisUrl: string, env: Record<string, string> = {}) {
  const nodes: NodeProcess[] = await Promise.all(names.map((n) => startNode(n, redisUrl, env).then(track)));
  const lb = track(await startBalancer(() => nodes.map((n) => n.port)));
  return { nodes, lb };
}

/** Asks the node that holds `s`'s session for its numbers. */
export function stats(s: Streamer): Promise<ClusterApi['server']['stats']> {
  return new Promise((resolve) => {
    const off = s.c.subscribe('stats', (m) => (off(), resolve(m)));
    void s.c.send('stats', {});
  });
}

/**
 * Waits until the server has heard each client speak: a new session is announced to the app, and
 * reached by broadcasts, only once its client claimed it by speaking (docs/protocol.md §4), half a
 * round trip after the client's `open`; on an HTTP rung that is a POST, which can take a while.
 * Broadcasts sent before then are, by design, not the new session's.
 */
export async function claimed(clients: Streamer[]): Promise<void> {
  await Promise.all(clients.map(stats));
}

/** Waits for every send to settle; lists each rejection (its code and message). */
export async function settledAll(clients: Streamer[]): Promise<string[]> {
  const settled = await Promise.allSettled(clients.flatMap((s) => s.sends));
  return settled.flatMap((r) => (r.status === 'rejected' ? [`${(r.reason as { code?: string }).code}: ${String(r.reason)}`] : []));
}

/**
 * The whole proof for one client: no `sessionlost`, every echo once and in order, every other
 * client's broadcasts once and in order, and (for a member of room r) every other client's room
 * messages once and in order; a non-member hears no room message.
 */
export function expectExact(s: Streamer, clients: Streamer[], members: Streamer[], n: number): void {
  expect({ name: s.name, lost: s.lost, down: s.down }).toEqual({ name: s.name, lost: 0, down: range(n) });
  // Bytes (every 7th echo: binary on ws, base64 on the HTTP rungs) came back intact through the moves.
  expect({ name: s.name, badBlobs: s.badBlobs }).toEqual({ name: s.name, badBlobs: [] });
  for (const t of clients) expect(s.said[t.name], `broadcasts from ${t.name} to ${s.name}`).toEqual(t.sentSay);
  const shouters = members.includes(s) ? clients.filter((t) => t !== s) : [];
  for (const t of shouters) expect(s.shouted[t.name], `room messages from ${t.name} to ${s.name}`).toEqual(t.sentShout);
  expect(Object.keys(s.shouted).sort()).toEqual(shouters.map((t) => t.name).sort());
}
