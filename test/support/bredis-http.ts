import { request, type IncomingMessage } from 'node:http';
import type { ServerOptions } from '../../src/server/index';
import { redisStore, type RedisStoreOptions } from '../../src/server/redis';
import { eventually, startServer, track } from './harness';

/*
 * The HTTP rungs spoken by hand (docs/protocol.md §2.2, §2.3), request by request, so that a test
 * chooses which node each request lands on: a balancer without stickiness, made deterministic.
 */

export interface Answer {
  status: number;
  headers: IncomingMessage['headers'];
  body: string;
}

/** One POST to `port`'s endpoint; resolves with the whole answer. Destroyed by `cleanup`. */
export function post(port: number, query: string, body: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: `/wirefall?${query}`, method: 'POST', headers: { 'content-type': 'text/plain;charset=UTF-8', ...headers } }, (res) => {
      let b = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (b += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: b }));
      res.on('error', reject);
    });
    req.on('error', reject);
    track({ close: () => void req.destroy() });
    req.end(body);
  });
}

/** An SSE open (protocol 3): the event stream's frames, as they arrive; `close` cuts it. */
export function openSse(port: number, u: string, hello: Record<string, unknown>): { frames: Record<string, unknown>[]; close(): void } {
  const frames: Record<string, unknown>[] = [];
  const req = request({ host: '127.0.0.1', port, path: `/wirefall?t=sse&u=${u}`, method: 'POST', headers: { 'content-type': 'text/plain;charset=UTF-8', accept: 'text/event-stream' } }, (res) => {
    let buf = '';
    res.setEncoding('utf8');
    res.on('data', (d: string) => {
      buf += d;
      for (let i = buf.indexOf('\n\n'); i >= 0; i = buf.indexOf('\n\n')) {
        const data = buf.slice(0, i).split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('');
        buf = buf.slice(i + 2);
        if (!data) continue;
        const v: unknown = JSON.parse(data);
        frames.push(...((Array.isArray(v) ? v : [v]) as Record<string, unknown>[]));
      }
    });
    res.on('error', () => {});
  });
  req.on('error', () => {});
  track({ close: () => void req.destroy() });
  req.end(JSON.stringify({ t: 'hello', v: 3, ...hello }));
  return { frames, close: () => void req.destroy() };
}

/** A client message frame, as an uplink POST's body carries it after the key line. */
export const msg = (s: number, ev: string, d: unknown) => JSON.stringify({ t: 'msg', s, ev, d });

/**
 * Two nodes on one Redis (`prefix` keeps their keys apart from other tests') and an SSE session
 * opened on the first, by hand (uplink `up1`): what the forwarding tests start from.
 */
export async function twoNodesAndSse(redisUrl: string, prefix: string) {
  const a = await redisNode(redisUrl, prefix);
  const b = await redisNode(redisUrl, prefix);
  track(a.server);
  track(b.server);
  const s = openSse(a.port, 'up1', {});
  await eventually(() => s.frames.some((f) => f.t === 'welcome'), 5000, 'the welcome');
  const { sid, key } = s.frames.find((f) => f.t === 'welcome') as { sid: string; key: string };
  return { a, b, s, sid, key };
}

/**
 * A node on the Redis at `redisUrl`, its keys under `prefix` (not tracked: some tests close it
 * themselves), with its store (`stats`, `nodeId`).
 */
export async function redisNode(redisUrl: string, prefix: string, options: Omit<ServerOptions, 'store'> = {}, store: RedisStoreOptions = {}) {
  const s = redisStore({ ...store, url: redisUrl, prefix });
  return { ...(await startServer({ ...options, store: s })), store: s };
}
