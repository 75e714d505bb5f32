/**
 * "Every wait has a deadline" for what the server wrote and the client does not read. Node has no
 * write deadline: an HTTP answer that ended (an SSE stream the server closed, a long-poll answer)
 * kept its unread rest in the process for as long as its socket lived, and a peer that stops
 * reading but answers TCP's window probes keeps a socket alive for ever. Answers are written here
 * past what the kernel buffers on loopback (megabytes), so that the rest waits in the process.
 */
import { connect as tcp, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { bystander, serve } from '../support/bystander';
import { guardProcess } from '../support/guard';
import { cleanup, eventually, track } from '../support/harness';

guardProcess();
afterEach(cleanup);

const HELLO = encodeURIComponent('{"t":"hello","v":1}');
/** `n` pings in one transport message: `n` pongs (28 bytes each) for the downlink. */
const pings = (n: number) => JSON.stringify(Array.from({ length: n }, (_, i) => ({ t: 'ping', n: 1e9 + i })));

/** Bytes the server holds for its clients, unread (its open sockets' write buffers). */
function unread(server: { httpServer: import('node:net').Server }) {
  const open = new Set<Socket>();
  server.httpServer.on('connection', (s: Socket) => {
    open.add(s);
    s.on('close', () => open.delete(s));
  });
  return () => [...open].reduce((n, s) => n + s.writableLength, 0);
}

/** A GET on a raw socket that reads only the first `want` characters, then stops reading. */
async function readsOnly(port: number, path: string, want: string) {
  const sock = tcp(port, '127.0.0.1');
  track({ close: () => void sock.destroy() });
  let text = '';
  sock.on('data', (d) => {
    text += String(d);
    if (text.includes(want)) sock.pause();
  });
  sock.on('error', () => {});
  sock.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
  await eventually(() => text.includes(want), 5000, `"${want}"`);
  return { text: () => text };
}

async function post(url: string, sid: string, key: string, t: string, body: string) {
  const r = await fetch(`${url}?t=${t}&sid=${sid}`, { method: 'POST', body: `${key}\n${body}` });
  await r.arrayBuffer();
  return r.status;
}

describe('an ended answer its client does not read is cut', () => {
  it('SSE: a stream closed by the heartbeat while megabytes wait unread does not keep its socket', async () => {
    const { server, url, port } = await serve({ maxBufferedBytes: 64 * 1024 * 1024, heartbeatMs: 500 });
    const held = unread(server);
    const by = await bystander(server, url);
    const sse = await readsOnly(port, `/wirefall?t=sse&hello=${HELLO}`, '"welcome"');
    const line = sse.text().split('\n').find((l) => l.includes('"welcome"'))!;
    const w = JSON.parse(line.slice(line.indexOf('{'))) as { sid: string; key: string };
    // About 10 MB of pongs; then silence: the heartbeat ends the link, the stream ends unread.
    for (let i = 0; i < 12; i++) expect(await post(url, w.sid, w.key, 'sse', pings(30_000))).toBe(204);
    await eventually(() => [...server.connections].every((c) => c.rung !== 'sse'), 10_000, 'the heartbeat to end the link');
    // Two beats and 5 s after the end at most (a loaded machine gets slack); it stayed for ever.
    expect(held()).toBeGreaterThan(1024 * 1024);
    await eventually(() => held() === 0, 20_000, 'the unread stream to be cut');
    await by.check(20, false); // a beat of 0.5-1 s: see bystander.ts
  }, 40_000);

  it('long-polling: an answer left unread is cut, and unread answers count toward maxBufferedBytes', async () => {
    const { server, url, port } = await serve({ maxBufferedBytes: 16 * 1024 * 1024, heartbeatMs: 1000 });
    const held = unread(server);
    const by = await bystander(server, url);
    const opened = (await (await fetch(`${url}?t=lp&hello=${HELLO}`)).json()) as { t: string; sid?: string; key?: string }[];
    const { sid, key } = opened.find((f) => f.t === 'welcome') as { sid: string; key: string };
    const fill = async () => {
      for (let i = 0; i < 10; i++) expect(await post(url, sid, key, 'lp', pings(30_000))).toBe(204);
    };
    // About 8 MB waits in the mailbox (under the bound); a poll takes it, and is not read.
    await fill();
    await readsOnly(port, `/wirefall?t=lp&sid=${sid}&key=${key}`, '200 OK');
    expect(held()).toBeGreaterThan(1024 * 1024);
    // As much again: with the first answer unread, that is past the bound. The link is dropped
    // as a slow reader (the next poll: 404), and the unread answer with it.
    await fill();
    const second = await readsOnly(port, `/wirefall?t=lp&sid=${sid}&key=${key}`, 'HTTP/1.1');
    expect(second.text()).toMatch(/^HTTP\/1.1 404/);
    await eventually(() => held() === 0, 20_000, 'the unread answer to be cut');
    await by.check(20, false); // a beat of 0.5-1 s: see bystander.ts
  }, 40_000);
});
