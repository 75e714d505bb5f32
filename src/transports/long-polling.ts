import { DEV } from '../dev';
import { httpTransport, refused } from './http';
import type { Transport, TransportContext } from './transport';

/**
 * The `longpoll` rung: a POST carries the hello and its answer is the first poll's (the greeting
 * and the welcome); then each poll (a POST whose body is the session key) returns one message and
 * the next leaves at once. POSTs go up.
 */
export function longPollTransport(ctx: TransportContext): Transport {
  return httpTransport(ctx, 'lp', async (ch) => {
    let res = await ch.open(ctx.hello);
    if (!res) return;
    const clock = ctx.platform.clock;
    for (let first = true; !ch.done(); first = false) {
      // Read in chunks, bounded as an SSE event is: an answer without end (a broken server, a
      // middlebox) was read whole, until the engine's string limit (http.ts). Only a 200's: a 204
      // has no body to read, and any other status fails the link (its abort cancels the body).
      let text = '';
      if (res.status === 200 && !(await ch.read(res, (chunk) => (text += chunk).length))) return;
      // A 200 that is no frame nor batch (JSON) is a captive portal's page or a meddling proxy, not us: a
      // refusal with its status, as on the event stream, not a protocol error of the server.
      if (res.status !== 200 || !'[{'.includes(text[0]!)) return ch.fail(refused(res));
      if (first) ctx.events.open();
      // An empty answer (the hold ran out) is delivered too: it proves the server alive. The next
      // poll leaves after the delivery: asked for before it (so a burst's next answer travels
      // while this one is parsed), it measured no faster and cost the client ~8 % more CPU.
      // The live link says when answers keep coming at once with nothing new in them (a server
      // or middlebox that answers every poll at once): then the next poll waits a second.
      if (ch.deliver(text)) await new Promise<void>((r) => clock.setTimeout(r, 1e3));
      const next = ch.poll();
      if (!next) return ch.fail({ code: 'WF_PROTOCOL', message: DEV ? 'the server answered the hello without a welcome' : '' });
      res = await next;
    }
  });
}
