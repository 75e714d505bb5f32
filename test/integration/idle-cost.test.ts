import { afterEach, describe, expect, it } from 'vitest';
import type { RungName } from '../../src/core/rungs';
import type { ServerOptions } from '../../src/server/index';
import { cleanup, client, eventually, startServer, track, until } from '../support/harness';

afterEach(cleanup);

// What an idle client costs on the HTTP rungs, in requests (docs/protocol.md §5): long-polling one
// poll per heartbeat and no uplink POST (the poll is the heartbeat), SSE one POST every second
// heartbeat. Counted at the client's fetch; the server must keep both links all the while.

const HB = 600;
const BEATS = 10;

async function serve(opts: ServerOptions = {}) {
  const s = await startServer(opts);
  track(s.server);
  return s;
}

/** A fetch that counts the client's requests by kind. */
function countingFetch() {
  const n = { poll: 0, up: 0 };
  const f: typeof fetch = (input, init) => {
    const q = new URL(String(input)).searchParams;
    if (q.has('sid')) n[q.has('poll') ? 'poll' : 'up']++;
    return fetch(input, init);
  };
  return { fetch: f, n };
}

describe.each(['longpoll', 'sse'] as RungName[])('an idle %s client', (rung) => {
  it(`costs the heartbeat's minimum of requests, and the server keeps its link`, async () => {
    const { server, url } = await serve({ heartbeatMs: HB });
    const links: (string | null)[] = [];
    let sessions = 0;
    server.on('connection', (conn) => {
      sessions++;
      conn.on('link', (r) => links.push(r));
    });
    const net = countingFetch();
    const c = client(url, { transports: [rung], fetch: net.fetch });
    const errors: string[] = [];
    c.on('error', (e) => errors.push(e.code));
    await until(c, 'open');
    // The claim and the first beat's answer (the rtt) are not idle traffic.
    await eventually(() => c.rtt !== undefined, 5000, 'the first ping answered');
    const before = { ...net.n };
    await new Promise((r) => setTimeout(r, HB * BEATS));
    const polls = net.n.poll - before.poll;
    const posts = net.n.up - before.up;
    expect(errors).toEqual([]);
    expect(c.state).toBe('open');
    expect(sessions).toBe(1);
    expect(links).toEqual([]); // never reaped: the server counts polls (long-polling), waits three beats (SSE)
    if (rung === 'longpoll') {
      // Each server ping answers the held poll and the client polls again: one request a beat.
      // Before, a ping was answered by a POST whose pong answered the next poll: three a beat.
      // Bounds with room for a busy machine: a server ping late by half a beat (a 300 ms stall)
      // costs a ping of ours (a POST, and a poll for its pong). Before: 10 POSTs and 20 polls.
      expect(polls).toBeGreaterThanOrEqual(BEATS / 2);
      expect(posts).toBeLessThanOrEqual(2);
      expect(polls).toBeLessThanOrEqual(BEATS + 2 * posts + 2);
    } else {
      expect(polls).toBe(0);
      expect(posts).toBeGreaterThanOrEqual(BEATS / 2 - 2);
      expect(posts).toBeLessThanOrEqual(BEATS / 2 + 2); // before: one a beat, or more
    }
  });
});
