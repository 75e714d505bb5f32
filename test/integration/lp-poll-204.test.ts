import { afterEach, expect, test } from 'vitest';
import type { WirefallError } from '../../src/index';
import { client, cleanup, eventually } from '../support/harness';
import { fakeHttp, hi } from '../support/bclient-http';

afterEach(cleanup);

/*
 * A long-poll answered 204 (a middlebox, a server that is not ours) has no body: it is refused
 * with its status, as any other answer that is not a 200 of ours. When the answer's body was
 * read before its status was looked at, the missing body threw, and the link failed as a
 * network error with no status.
 */
test('a poll answered 204 fails the link as WF_REFUSED with status 204', async () => {
  let opens = 0;
  const s = await fakeHttp(({ kind, res }) => {
    if (kind === 'open') return res.writeHead(200).end(JSON.stringify(hi({ resumed: opens++ > 0 })));
    res.writeHead(204).end();
  });
  const c = client(s.url, { transports: ['longpoll'], reconnect: { base: 200, max: 400 } });
  const errors: WirefallError[] = [];
  c.on('error', (e) => errors.push(e));
  await eventually(() => errors.length > 0, 10_000, 'an error');
  expect(errors[0]).toMatchObject({ code: 'WF_REFUSED', status: 204 });
  c.close();
});
