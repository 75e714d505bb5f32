import type { ServerResponse } from 'node:http';
import { afterEach, test } from 'vitest';
import { cleanup } from '../support/harness';
import { fakeHttp, hi, refusedThenResumed, sse } from '../support/bclient-http';

afterEach(cleanup);

/*
 * An event stream whose line (or event) never ends: a broken server, or a middlebox that dropped
 * the line breaks. The parser kept the line whole and grew it until the engine's string limit
 * threw, ~2 s and ~800 MB of heap later here, and the link then ended as WF_DISCONNECTED, as if
 * the stream had simply closed. It is now refused past 100 Mi characters (Node's `ws` refuses a
 * WebSocket message over 100 MiB) as WF_PROTOCOL, and the client resumes.
 */
const endless = (res: ServerResponse, head: string) => {
  const chunk = head.slice(0, 1) === ':' ? ` ${'x'.repeat(1 << 16)}` : 'x'.repeat(1 << 16);
  const more = (): void => {
    while (!res.destroyed && res.write(chunk));
    if (!res.destroyed) res.once('drain', more);
  };
  res.write(head);
  more();
};

for (const [what, head] of [['a data line', 'data: '], ['a comment line', ': '], ['an event of data lines', 'data: x\n']] as const) {
  test(`${what} that never ends is refused as WF_PROTOCOL, and the client resumes`, async () => {
    let opens = 0;
    const s = await fakeHttp(({ kind, res }) => {
      if (kind !== 'open') return void res.writeHead(200).end();
      res.writeHead(200, { 'content-type': 'text/event-stream' }).write(sse(hi({ resumed: opens > 0 })));
      if (opens++) return; // the resume: a quiet stream
      if (head === 'data: x\n') {
        // Data lines of one event, never a blank line to end it. (Short lines take longer than the
        // heartbeat's deadlines to reach the bound: the link is then found stalled first.)
        const lines = `data: ${'x'.repeat(1 << 16)}\n`;
        const more = (): void => {
          while (!res.destroyed && res.write(lines));
          if (!res.destroyed) res.once('drain', more);
        };
        return more();
      }
      endless(res, head);
    });
    await refusedThenResumed(s.url, 'sse', () => opens);
  }, 60_000);
}
