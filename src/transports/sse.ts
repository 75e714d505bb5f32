import { DEV } from '../dev';
import { httpTransport, refused } from './http';
import { sseParser } from './sse-parser';
import type { Transport, TransportContext } from './transport';

/** The `sse` rung: an event stream down (the answer to the open POST), POSTs up. The response head counts as `open`. */
export function sseTransport(ctx: TransportContext): Transport {
  return httpTransport(ctx, 'sse', async (ch) => {
    // Protocol 3: the open POST's answer is the stream (fetch reads a POST's streamed answer in
    // browsers and Node alike; EventSource, which cannot POST, is not used).
    const res = await ch.open(ctx.hello, { Accept: 'text/event-stream' });
    if (!res || ch.done()) return;
    // A 200 that is not an event stream is a captive portal or a meddling proxy, not us.
    if (res.status !== 200 || !res.body || !res.headers.get('content-type')?.startsWith('text/event-stream')) {
      return ch.fail(DEV ? refused(res, ' (not an event stream)') : refused(res));
    }
    ctx.events.open();
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    const feed = sseParser(ch.deliver);
    try {
      for (let r; !ch.done() && !(r = await reader.read()).done; ) {
        // A line or an event that never ends (a broken server, a middlebox) grew until the engine's
        // string limit threw (~1 GB of heap in Node, measured): bounded where Node's `ws` bounds a
        // WebSocket message (maxPayload, 100 MiB; here in UTF-16 units, so never less).
        if (feed(decoder.decode(r.value, { stream: true })) > 100 * 2 ** 20) return ch.fail({ code: 'WF_PROTOCOL', message: DEV ? 'an event over 100 Mi characters' : '' });
      }
    } catch {
      /* a cut stream ends like a closed one */
    }
    ch.fail({ code: 'WF_DISCONNECTED', message: DEV ? 'event stream ended' : '' });
  });
}
