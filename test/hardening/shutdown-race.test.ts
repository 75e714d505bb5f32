import { afterEach, describe, expect, test } from 'vitest';
import { keyHash, type SessionState } from '../../src/server/handover';
import type { SessionStore } from '../../src/server/store/types';
import { cleanup, eventually, startServer } from '../support/harness';
import { raw } from '../support/raw';

/*
 * A node shutting down (a rolling restart) while a client's resume is taking its session over from
 * the store. The take-over finished after `close()` had handed this node's sessions to the store:
 * the late session was ended with the node, which drops a durable record, and the client, resuming
 * on the next node, heard `sessionlost` (seen as a rare failure of handover.test.ts under load).
 * The session must go back to the store instead. The store here is a stub whose take-over answers
 * when the test says, which makes the race exact; handover.test.ts runs it with real Redis.
 */

afterEach(cleanup);

function storeWithHeldTakes() {
  const takes: ((s: SessionState) => void)[] = [];
  const parked: string[] = [];
  const store: SessionStore = {
    name: 'held-takes',
    open: () => Promise.resolve(),
    publish() {},
    watch() {},
    close: () => Promise.resolve(),
    sessions: {
      take: () => new Promise<SessionState | undefined>((resolve) => takes.push(resolve)),
      park: (states) => (parked.push(...states.map((s) => s.id)), Promise.resolve()),
    },
  };
  return { store, takes, parked };
}

const stored = (id: string, key: string): SessionState => ({
  v: 1, id, keyHash: keyHash(key), identity: 'null', user: 'null', received: 3, outbox: { next: 1, acked: 0, entries: [] }, rooms: [],
});

// Protocol 1 on HTTP: a hello in the open request itself, without a ticket (protocol.md §3).
const hello = (v: number) => ({ t: 'hello', v, sid: 's1', key: 'k1', ack: 0 });

describe('a resume that takes a session over while the node shuts down', () => {
  test.each(['ws', 'longpoll'] as const)('%s: the session goes back to the store, not ended with the node', async (rung) => {
    const { store, takes, parked } = storeWithHeldTakes();
    const { server, url } = await startServer({ store });
    let heard: () => Promise<string>;
    if (rung === 'ws') {
      const c = await raw(url);
      c.ws.send(JSON.stringify(hello(3)));
      heard = async () => (await eventually(() => c.closed() !== undefined, 5000, 'the socket closed'), JSON.stringify(c.frames));
    } else {
      const answer = fetch(`${url}?t=lp&hello=${encodeURIComponent(JSON.stringify(hello(1)))}`);
      heard = async () => (await answer).text();
    }
    await eventually(() => takes.length === 1, 5000, 'the take-over to start');
    const closed = server.close();
    takes[0]!(stored('s1', 'k1'));
    await closed;
    await eventually(() => parked.includes('s1'), 5000, 'the session left in the store');
    expect(parked).toEqual(['s1']);
    // The client heard no welcome: it resumes on another node, which takes the session from the store.
    expect(await heard()).not.toContain('welcome');
  });
});
