import { afterEach, expect, test } from 'vitest';
import type { WirefallError } from '../../src/index';
import { cleanup, client, eventually } from '../support/harness';
import { fakeHttp, hi } from '../support/bclient-http';

afterEach(cleanup);

/*
 * A long-poll answer with no frames (`[]`) comes from our server when a hold runs out (25 s) or a
 * newer poll replaced the held one: never at once, twice in a row. A broken server or a middlebox
 * that answers every poll with `[]` at once made the client poll again at once, for ever: 657
 * polls a second here, with the link "alive" (an answer proves the server alive). Consecutive
 * empty answers now back off (50 ms, doubling, up to 1 s); any answer with frames resets it.
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
  await eventually(() => s.counts.poll >= 3, 5000, 'three polls');
  // 1.5 s of empty answers: 50 + 100 + 200 + 400 + 800 ms of backoff is at most 6 polls, however fast the machine.
  const polls = s.counts.poll;
  await new Promise((r) => setTimeout(r, 1500));
  expect(s.counts.poll - polls).toBeLessThanOrEqual(6);
  expect(c.state).toBe('open');
  say = true;
  await eventually(() => got.length === 1, 5000, 'the message');
  expect(got).toEqual(['hello']);
  expect(errors).toEqual([]);
});
