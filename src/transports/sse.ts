import { DEV } from '../dev';
import { httpTransport, refused } from './http';
import { sseParser } from './sse-parser';
import type { Transport, TransportContext } from './transport';

/** The `sse` rung: an event stream down (the answer to the open POST), POSTs up. The response head counts as `open`. */
export const sseTransport = (ctx: TransportContext): Transport =>
  httpTransport(ctx, 'sse', async (ch) => {
    // Protocol 3: the open POST's answer is the stream (fetch reads a POST's streamed answer in
    // browsers and Node alike; EventSource, which cannot POST, is not used).
    const res = await ch.open(ctx.hello, { Accept: 'text/event-stream' });
    if (!res || ch.done()) return;
    // A 200 that is not an event stream is a captive portal or a meddling proxy, not us.
    if (res.status !== 200 || !res.body || !res.headers.get('content-type')?.startsWith('text/event-stream')) {
      return ch.fail(DEV ? refused(res, ' (not an event stream)') : refused(res));
    }
    ctx.events.open();
    try {
      // A line or an event that never ends (a broken server, a middlebox) grew until the engine's
      // string limit threw (~1 GB of heap in Node, measured): the parser says how much it holds,
      // and past the bound the link fails as WF_PROTOCOL (http.ts).
      await ch.read(res, sseParser(ch.deliver));
    } catch {
      /* a cut stream ends like a closed one */
    }
    ch.fail({ code: 'WF_DISCONNECTED', message: DEV ? 'event stream ended' : '' });
  });
