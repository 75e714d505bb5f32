import { afterEach, expect, test } from 'vitest';
import type { WirefallError } from '../../src/index';
import { cleanup, client, eventually } from '../support/harness';
import { fakeHttp, hi } from '../support/bclient-http';

afterEach(cleanup);

/*
 * A long-poll answer with no frames (`[]`) comes from our server when a hold runs out (25 s) or a
 * newer poll replaced the held one: never at once, twice in a row. A broken server or a middlebox
 * that answers every poll with `[]` at once made the client poll again at once, for ever: 657
 * polls a second here, with the link "alive" (an answer proves the server alive). After two such
 * answers in a row within a second, each poll now waits a second (the live link's rule for any
 * answer with nothing new: bclient2-lp-idle); one that was held longer (our server's hold) does
 * not wait, so the next messages are not held back.
 */
test('a server that answers every poll with [] at once is polled with backoff, and the link still carries messages', async () => {
  let say = false;
  const s = await fakeHttp(({ kind, res }) => {
    if (kind === 'open') return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(hi()));
    if (kind === 'poll' && say) return (say = false), res.writeHead(200).end(JSON.stringify({ t: 'msg', s: 1, ev: 'said', d: { from: 'x', text: 'hello' } }));
    // Polls, and the uplink's POSTs (the claim's ack): 200 with a body that is no concern of ours.
    // Empty, as written by hand: with a space, with a newline.
    res.writeHead(200).end(kind === 'poll' ? ['[]', '[ ]', '[]\n'][s.counts.poll % 3] : 'garbage');
  });
  const c = client(s.url, { transports: ['longpoll'] });
  const errors: WirefallError[] = [];
  c.on('error', (e) => errors.push(e));
  const got: string[] = [];
  c.subscribe('said', (d) => got.push(d.text));
  await eventually(() => s.counts.poll >= 3, 10_000, 'three polls');
  // 2.5 s of empty answers: a second's wait after each is at most 3 polls, however fast the machine.
  const polls = s.counts.poll;
  await new Promise((r) => setTimeout(r, 2500));
  expect(s.counts.poll - polls).toBeLessThanOrEqual(3);
  expect(c.state).toBe('open');
  say = true;
  await eventually(() => got.length === 1, 5000, 'the message');
  expect(got).toEqual(['hello']);
  expect(errors).toEqual([]);
});

test('an empty answer held over a second (a hold that ran out) is followed by the next poll at once', async () => {
  const polledAt: number[] = [];
  let answeredAt = 0;
  const s = await fakeHttp(({ kind, res }) => {
    if (kind === 'open') return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(hi()));
    if (kind !== 'poll') return res.writeHead(204).end();
    polledAt.push(performance.now());
    // The first poll is held 1.2 s and answered empty, as our server's hold runs out; the next
    // carries a message at once.
    if (polledAt.length === 1) setTimeout(() => ((answeredAt = performance.now()), res.writeHead(200).end('[]')), 1200);
    else if (polledAt.length === 2) res.writeHead(200).end(JSON.stringify({ t: 'msg', s: 1, ev: 'said', d: { from: 'x', text: 'after the hold' } }));
    else setTimeout(() => res.writeHead(200).end('[]'), 1200);
  });
  const c = client(s.url, { transports: ['longpoll'] });
  const got: string[] = [];
  c.subscribe('said', (d) => got.push(d.text));
  await eventually(() => got.length === 1, 10_000, 'the message');
  // The second poll left right after the held empty answer, not a second later (a wait would be
  // at least 1,000 ms; the rest is a loaded machine's margin).
  expect(polledAt[1]! - answeredAt).toBeLessThan(900);
  expect(got).toEqual(['after the hold']);
});
