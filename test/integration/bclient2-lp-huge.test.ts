import type { ServerResponse } from 'node:http';
import { afterEach, test } from 'vitest';
import { cleanup } from '../support/harness';
import { fakeHttp, hi, refusedThenResumed } from '../support/bclient-http';

afterEach(cleanup);

/*
 * A long-poll answer was read whole (`res.text()`): a broken server or a middlebox that answers
 * a poll with hundreds of MB was buffered until the engine's string limit. It is now read in
 * chunks and refused past 100 Mi characters, as an SSE event is (Node's `ws` refuses a WebSocket
 * message over 100 MiB), as WF_PROTOCOL, and the client resumes. The answer here is valid JSON (a
 * ping padded with 110 MiB of spaces), so before the bound it was taken, whole, as a ping.
 */
const padded = (res: ServerResponse, headers: Record<string, string | number>) => {
  const pad = ' '.repeat(1 << 20);
  let left = 110;
  res.writeHead(200, headers).write('[{"t":"ping","q":1}');
  const more = (): void => {
    while (!res.destroyed && left > 0 && (left--, res.write(pad)));
    if (res.destroyed) return;
    if (left > 0) res.once('drain', more);
    else res.end(']');
  };
  more();
};

for (const [what, headers] of [
  ['streamed (chunked)', {}],
  ['with its Content-Length', { 'content-length': 20 + 110 * 2 ** 20 }],
] as const) {
  test(`a long-poll answer over 100 Mi characters, ${what}, is refused as WF_PROTOCOL, and the client resumes`, async () => {
    let opens = 0;
    let polls = 0;
    const s = await fakeHttp(({ kind, res }) => {
      if (kind === 'open') return res.writeHead(200).end(JSON.stringify(hi({ resumed: opens++ > 0 })));
      if (kind !== 'poll') return void res.writeHead(204).end();
      // The first link's first poll is the huge answer; later polls are held (a quiet server).
      if (polls++ === 0) return padded(res, headers);
      setTimeout(() => !res.destroyed && res.writeHead(200).end('[]'), 2000);
    });
    await refusedThenResumed(s.url, 'longpoll', () => opens);
  }, 60_000);
}
