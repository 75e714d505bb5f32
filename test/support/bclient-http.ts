import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'vitest';
import type { RungName, WirefallError } from '../../src/index';
import { client, eventually, track } from './harness';

/** What a fake HTTP-rung server sees of one request. */
export interface FakeRequest {
  /** `open` (the hello), `poll`, or `up` (an uplink POST). */
  kind: 'open' | 'poll' | 'up';
  t: string;
  body: string;
  req: IncomingMessage;
  res: ServerResponse;
}

export const WELCOME = { t: 'welcome', v: 3, sid: 's1', key: 'k1', hb: 5000, ack: 0, resumed: false, max: 65536 };
/** The greeting and a welcome (with `extra` fields), as one long-poll answer or two SSE events. */
export const hi = (extra: Record<string, unknown> = {}) => [{ t: 'greet', v: [3] }, { ...WELCOME, ...extra }];
export const sse = (frames: unknown) => `data: ${JSON.stringify(frames)}\n\n`;

/**
 * A hand-written server for the HTTP rungs (docs/protocol.md §2), on 127.0.0.1: each request is
 * handed to `handle` with its body read, to answer as a broken server or a middlebox would.
 * Closed (every socket with it) by the harness's `cleanup`.
 */
export async function fakeHttp(handle: (r: FakeRequest) => void) {
  const counts = { open: 0, poll: 0, up: 0 };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const q = new URL(req.url!, 'http://x').searchParams;
      const kind = q.get('poll') ? 'poll' : q.get('n') ? 'up' : 'open';
      counts[kind]++;
      handle({ kind, t: q.get('t')!, body: Buffer.concat(chunks).toString(), req, res });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  track({ close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))) });
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/wirefall`, counts };
}

/**
 * A client of the fake server on `rung` whose first error must be WF_PROTOCOL (what came down
 * broke a bound), after which it resumes: the server sees a second open (`opens`) and the client
 * is open again.
 */
export async function refusedThenResumed(url: string, rung: RungName, opens: () => number): Promise<void> {
  const c = client(url, { transports: [rung] });
  const errors: WirefallError[] = [];
  c.on('error', (e) => errors.push(e));
  await eventually(() => errors.length > 0, 30_000, 'an error');
  expect(errors[0]!.code).toBe('WF_PROTOCOL');
  await eventually(() => opens() === 2 && c.state === 'open', 10_000, 'the resume');
}
