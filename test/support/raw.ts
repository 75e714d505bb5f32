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

/**
 * A leader tab, by hand: opens a session (its hello with `extra` fields), receives the server's
 * first two messages (the server must send them) and writes its acks of both, as a leader that
 * crashed before its tabs heard of the second would have. Returns the session's id and key.
 */
export async function ackedTwo(url: string, extra: Record<string, unknown> = {}): Promise<{ sid: string; key: string }> {
  const old = await raw(url);
  old.ws.send(JSON.stringify({ t: 'hello', v: 3, race: 'leader', ...extra }));
  const until = async (ok: () => boolean, what: string) => {
    for (const end = Date.now() + 5000; !ok(); await new Promise((r) => setTimeout(r, 10))) if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
  };
  const msgs = () => old.frames.filter((f) => f.t === 'msg').length;
  await until(() => old.frames.length >= 2, 'the welcome');
  const { sid, key } = old.frames[1] as { sid: string; key: string };
  old.ws.send('{"t":"ack","a":0}');
  await until(() => msgs() === 1, 'message 1');
  old.ws.send('{"t":"ack","a":1}');
  await until(() => msgs() === 2, 'message 2');
  old.ws.send('{"t":"ack","a":2}');
  await new Promise((r) => setTimeout(r, 100)); // the acks arrive
  return { sid, key };
}
