/**
 * A long-poll whose answer was lost on the way (a gateway's 504 in its place, a cut) is sent
 * again by the client with the same `r` (the answers it read whole, docs/protocol.md §2.3): the
 * server answers it again with the lost answer's frames first, then what is new, and never skips
 * one. A poll whose `r` is not the link's (above what was sent, two behind, not a number) is a
 * typed 400, and the link and the server carry on.
 */
import { afterEach, expect, test } from 'vitest';
import type { Connection } from '../../src/server/index';
import { cleanup, startServer, track, type Chat } from '../support/harness';

afterEach(cleanup);

type Frame = { t: string; s?: number; d?: unknown[]; ev?: string; sid?: string; key?: string; rp?: number };

async function session() {
  const { server, url } = await startServer({ heartbeatMs: 20_000 });
  track(server);
  const open = await fetch(`${url}?t=lp&u=test`, { method: 'POST', body: JSON.stringify({ t: 'hello', v: 3 }) });
  const welcome = ((await open.json()) as Frame[]).find((f) => f.t === 'welcome')!;
  const poll = (r: string) => fetch(`${url}?t=lp&sid=${welcome.sid}&poll=1&r=${r}`, { method: 'POST', body: welcome.key });
  // Speaking on the link claims the session: the app hears of it.
  const up = await fetch(`${url}?t=lp&sid=${welcome.sid}&u=test&n=1`, { method: 'POST', body: `${welcome.key}\n{"t":"ack","a":0}` });
  expect(up.status).toBe(204);
  const conn = await new Promise<Connection<Chat>>((r) => {
    const c = [...server.connections][0];
    if (c) r(c);
    else server.on('connection', r);
  });
  return { welcome, poll, conn };
}

/** The message numbers in an answer's frames (`msg` and `run`). */
const seqs = (frames: Frame[]) => frames.flatMap((f) => (f.t === 'run' ? f.d!.map((_, i) => f.s! + i) : f.t === 'msg' ? [f.s!] : []));

/** The numbers of the messages a poll's answer carries. */
const answer = async (res: Promise<Response>) => seqs((await (await res).json()) as Frame[]);
const tick = () => new Promise((r) => setTimeout(r, 50));

test('a poll that says the last answer was lost gets its frames again, first and in order, then what is new', async () => {
  const { welcome, poll, conn } = await session();
  expect(welcome.rp).toBe(1);
  void conn.send('echoed', { n: 1 });
  void conn.send('echoed', { n: 2 });
  expect(await answer(poll('1'))).toEqual([1, 2]); // answer 2
  void conn.send('echoed', { n: 3 });
  await tick(); // 3 waits in the mailbox
  // Answer 2 lost on the way: the client polls again with r=1.
  expect(await answer(poll('1'))).toEqual([1, 2, 3]);
  // Lost once more: the answer that replaced it, again.
  expect(await answer(poll('1'))).toEqual([1, 2, 3]);
  // Read: the next poll is held, and carries only what is new.
  const held = poll('2');
  await tick();
  void conn.send('echoed', { n: 4 });
  expect(await answer(held)).toEqual([4]);
});

test('a held poll answered after its client gave it up (a gateway answered 504 for it): the next poll gets that answer', async () => {
  const { poll, conn } = await session();
  void conn.send('echoed', { n: 1 });
  expect(await answer(poll('1'))).toEqual([1]);
  // Held at the server; the client's gateway answered 504 meanwhile, so the client polls again.
  const lost = poll('2');
  await tick();
  void conn.send('echoed', { n: 2 }); // answers the held poll: the answer the client never gets
  await tick();
  void conn.send('echoed', { n: 3 });
  await tick();
  expect(await answer(poll('2'))).toEqual([2, 3]);
  expect(await answer(lost)).toEqual([2]); // what the gateway threw away
});

test("a poll with an r that is not the link's is a typed 400, and the link carries on", async () => {
  const { poll, conn } = await session();
  void conn.send('echoed', { n: 1 });
  expect(await answer(poll('1'))).toEqual([1]);
  for (const r of ['9', '3', '0', 'abc', '', '-1', '1.5', '1e3', '99999999999999999999']) {
    const res = await poll(r);
    expect(res.status, `r=${r}`).toBe(400);
    expect(res.headers.get('x-wirefall-error')).toBe('bad_request');
    expect(((await res.json()) as { code: string }).code).toBe('bad_request');
  }
  // The link is unharmed: a poll with the right number is answered with what is new.
  void conn.send('echoed', { n: 2 });
  expect(await answer(poll('2'))).toEqual([2]);
  expect(conn.closed).toBe(false);
});
