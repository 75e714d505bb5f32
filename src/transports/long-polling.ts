import { httpTransport, refused } from './http';
import type { Transport, TransportContext } from './transport';

/**
 * The `longpoll` rung: the first GET carries the hello and returns the greeting and welcome;
 * each answer is one message and the next poll leaves at once. POSTs go up.
 */
export function longPollTransport(ctx: TransportContext): Transport {
  return httpTransport(ctx, 'lp', async (ch) => {
    let q: string | undefined = `hello=${encodeURIComponent(ctx.hello)}`;
    for (let first = true; !ch.done(); first = false) {
      const res = await ch.req(q);
      if (ch.done()) return;
      if (res.status !== 200) return ch.fail(refused(res));
      const text = await res.text();
      if (ch.done()) return;
      if (first) ctx.events.open();
      // An empty answer only means the hold ran out; it proves nothing the heartbeats do not.
      if (text !== '[]') ch.deliver(text);
      if (!(q = ch.session())) return ch.fail({ code: 'WF_PROTOCOL', message: 'the server answered the hello without a welcome' });
    }
  });
}
