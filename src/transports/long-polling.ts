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
    for (let first = true, at = 0; !ch.done(); first = false) {
      if (res.status !== 200) return ch.fail(refused(res));
      // Read in chunks, bounded as an SSE event is: an answer without end (a broken server, a
      // middlebox) was read whole, until the engine's string limit (http.ts).
      let text = '';
      if (!(await ch.read(res, (chunk) => (text += chunk).length))) return;
      if (first) ctx.events.open();
      // An empty answer (the hold ran out) is delivered too: it proves the server alive. The next
      // poll leaves after the delivery: asked for before it (so a burst's next answer travels
      // while this one is parsed), it measured no faster and cost the client ~8 % more CPU.
      ch.deliver(text);
      // An answer without frames comes from our server only when a hold ran out (25 s) or a newer
      // poll replaced it: a server or middlebox that answers every poll with `[]` at once had the
      // client polling as fast as the network went, for ever (657 polls a second on localhost).
      // So an empty answer within a second of its poll waits a second before the next poll.
      // Empty: shorter than the shortest frame, `{"t":"ping"}` (so `[]` with spaces or a newline
      // too). Not every empty answer: a session with a heartbeat over the hold gets one each
      // hold, and a wait would hold its next messages back.
      if (text.length < 12 && clock.now() - at < 1e3) await new Promise<void>((r) => clock.setTimeout(r, 1e3));
      at = clock.now();
      const next = ch.poll();
      if (!next) return ch.fail({ code: 'WF_PROTOCOL', message: DEV ? 'the server answered the hello without a welcome' : '' });
      res = await next;
    }
  });
}
