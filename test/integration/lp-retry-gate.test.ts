import { afterEach, expect, test } from 'vitest';
import type { WirefallError } from '../../src/index';
import { client, cleanup, eventually } from '../support/harness';
import { fakeHttp, hi } from '../support/bclient-http';

afterEach(cleanup);

/*
 * A client sends a failed poll again on the same link only when the welcome says the server
 * answers a lost poll again (`rp`, docs/protocol.md §2.3). An older server answers a poll with
 * what is new only: a retried poll there would lose what the failed answer held, so the link is
 * given up and resumed as before (the resume's `ack` has the server resend it).
 */
async function pollsBeforeResume(rp: boolean): Promise<{ polls: number; error: WirefallError }> {
  let pollsAtResume = -1;
  const s = await fakeHttp(({ kind, res }) => {
    if (kind === 'open') {
      if (s.counts.open === 2) pollsAtResume = s.counts.poll;
      return res.writeHead(200).end(JSON.stringify(hi({ resumed: s.counts.open > 1, ...(rp && { rp: 1 }) })));
    }
    if (kind === 'poll') return res.writeHead(502).end('<html>Bad Gateway</html>');
    res.writeHead(204).end();
  });
  const c = client(s.url, { transports: ['longpoll'], reconnect: { base: 50, max: 100 } });
  const errors: WirefallError[] = [];
  c.on('error', (e) => errors.push(e));
  await eventually(() => pollsAtResume >= 0, 15_000, 'a resume');
  c.close();
  return { polls: pollsAtResume, error: errors[0]! };
}

test('an older server (no rp in its welcome): a poll answered 502 gives the link up at once', async () => {
  const { polls, error } = await pollsBeforeResume(false);
  expect(polls).toBe(1);
  expect(error).toMatchObject({ code: 'WF_REFUSED', status: 502 });
});

test('a server that says rp: the poll is tried 3 more times on the link before it is given up', async () => {
  const { polls, error } = await pollsBeforeResume(true);
  expect(polls).toBe(4);
  expect(error).toMatchObject({ code: 'WF_REFUSED', status: 502 });
});
