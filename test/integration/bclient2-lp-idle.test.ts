import { afterEach, expect, test } from 'vitest';
import type { WirefallError } from '../../src/index';
import { cleanup, client, eventually } from '../support/harness';
import { fakeHttp, hi } from '../support/bclient-http';

afterEach(cleanup);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const said = (s: number, text: string) => JSON.stringify({ t: 'msg', s, ev: 'said', d: { from: 'x', text } });

/*
 * A server (or middlebox) that answers every poll at once with a ping had the client polling as
 * fast as the network went: the empty-answer rule (`[]` within a second of its poll waits a
 * second) did not see a ping, nor an ack of nothing. Now the live link says when answers keep
 * coming within a second with no news in them (no new message, no ack that moved the outbox on,
 * no server beat: a ping half a beat or more after the last), and after two in a row each poll
 * waits a second until news comes.
 */
for (const [what, answer] of [
  ['a quiet ping', '[{"t":"ping","q":1}]'],
  ['a ping that asks for an answer (and a pong for each of ours)', '{"t":"ping"}'],
  ['an ack of nothing', '{"t":"ack","a":0}'],
] as const) {
  test(`a server that answers every poll at once with ${what} is polled about once a second, and the link still carries messages`, async () => {
    let say = false;
    /** The client's pings this server owes a pong (it answers them on the next poll). */
    const owed: number[] = [];
    const s = await fakeHttp(({ kind, res, body }) => {
      if (kind === 'open') return res.writeHead(200).end(JSON.stringify(hi()));
      if (kind === 'poll' && say) return (say = false), res.writeHead(200).end(said(1, 'hello'));
      if (kind === 'poll') return res.writeHead(200).end(owed.length ? JSON.stringify({ t: 'pong', n: owed.shift() }) : answer);
      // Uplink POSTs (the claim's ack; our pong and ping when asked): the key line, then frames.
      for (const f of [JSON.parse(body.slice(body.indexOf('\n') + 1))].flat()) if (f.t === 'ping') owed.push(f.n);
      res.writeHead(204).end();
    });
    const c = client(s.url, { transports: ['longpoll'] });
    const errors: WirefallError[] = [];
    c.on('error', (e) => errors.push(e));
    const got: string[] = [];
    c.subscribe('said', (d) => got.push(d.text));
    await eventually(() => s.counts.poll >= 4, 10_000, 'four polls');
    // 1.8 s of such answers: a second's wait before each poll is at most 2 polls, and so at most
    // 2 uplink POSTs (before, here: 1,816 polls with a quiet ping, 2,832 with an ack of nothing,
    // 1,448 polls and 965 POSTs with pings and pongs).
    const [polls, ups] = [s.counts.poll, s.counts.up];
    await sleep(1800);
    expect(s.counts.poll - polls).toBeLessThanOrEqual(2);
    expect(s.counts.up - ups).toBeLessThanOrEqual(2);
    say = true;
    await eventually(() => got.length === 1, 5000, 'the message');
    expect(got).toEqual(['hello']);
    expect(errors).toEqual([]);
    expect(c.state).toBe('open');
  });
}

test('a ping alone soon after a poll (our server, once a beat, in a busy session) does not hold the next poll back', async () => {
  const polledAt: number[] = [];
  let pingedAt = 0;
  const s = await fakeHttp(({ kind, res }) => {
    if (kind === 'open') return res.writeHead(200).end(JSON.stringify(hi()));
    if (kind !== 'poll') return res.writeHead(204).end();
    polledAt.push(performance.now());
    const n = polledAt.length;
    // 1: a message at once (news); 2: the beat's ping alone at once (no news); 3: a message at
    // once; 4 and later: held, as a quiet server's polls are.
    if (n === 1) res.writeHead(200).end(said(1, 'first'));
    else if (n === 2) (pingedAt = performance.now()), res.writeHead(200).end('[{"t":"ping","q":1}]');
    else if (n === 3) res.writeHead(200).end(said(2, 'after the ping'));
    else setTimeout(() => !res.destroyed && res.writeHead(200).end('[]'), 1500);
  });
  const c = client(s.url, { transports: ['longpoll'] });
  const got: string[] = [];
  c.subscribe('said', (d) => got.push(d.text));
  await eventually(() => got.length === 2, 10_000, 'both messages');
  // The third poll left right after the ping, not a second later (a wait is at least 1,000 ms;
  // the rest is a loaded machine's margin).
  expect(polledAt[2]! - pingedAt).toBeLessThan(900);
  expect(got).toEqual(['first', 'after the ping']);
});
