import WebSocket from 'ws';
import { decodeBinary } from '../../src/protocol/binary';
import { track } from './harness';

/** A raw `ws` client speaking the protocol by hand, to see exactly what the server sends. */
export async function raw(url: string, headers: Record<string, string> = {}, options: WebSocket.ClientOptions = {}) {
  const ws = track(new WebSocket(url.replace('http', 'ws'), { ...options, headers }));
  const frames: Record<string, unknown>[] = [];
  let closed: { code: number; reason: string } | undefined;
  // `binary`: how many binary messages (messages with bytes, docs/protocol.md §1.3) came.
  const seen = { binary: 0 };
  ws.on('message', (d, isBinary) => {
    if (isBinary) return void (seen.binary++, frames.push(...(decodeBinary(d as Buffer) as unknown as Record<string, unknown>[])));
    const v = JSON.parse(String(d));
    frames.push(...(Array.isArray(v) ? v : [v]));
  });
  ws.on('close', (code, reason) => (closed = { code, reason: String(reason) }));
  ws.on('error', () => {});
  await new Promise((r) => ws.once('open', r));
  return { ws, frames, closed: () => closed, seen };
}
