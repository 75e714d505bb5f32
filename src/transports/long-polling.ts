import { DEV } from '../dev';
import { httpTransport, refused } from './http';
import type { Transport, TransportContext } from './transport';

/** Tries of a poll lost on the way, in a row, before the link is given up. */
const TRIES = 3;

/**
 * The `longpoll` rung: a POST carries the hello and its answer is the first poll's (the greeting
 * and the welcome); then each poll (a POST whose body is the session key) returns one message and
 * the next leaves at once. POSTs go up.
 */
export const longPollTransport = (ctx: TransportContext): Transport =>
  httpTransport(ctx, 'lp', async (ch) => {
    const clock = ctx.platform.clock;
    const wait = (ms: number) => new Promise<void>((r) => clock.setTimeout(r, ms));
    let next: Promise<Response | void> | undefined = ch.open(ctx.hello);
    // `got`: answers read whole, the open's the first; each poll says it (§2.3). `tries`: polls
    // lost in a row.
    // No test of `done` before the await: a poll asked for is awaited (its rejection handled: after
    // a close it is the abort, thrown to nothing), or it was an unhandled rejection.
    for (let got = 0, tries = 0; ; ) {
      let text = '';
      let res: Response | void = undefined;
      // A poll lost on the way (a gateway's 5xx in place of the answer, a reset, a cut body) is
      // sent again on the link, after 0, 150, 300 ms, where the server answers it again (its
      // welcome says `rp`: an older one would answer with what is new only, and the lost messages
      // would wait for a resume). Not the open's: the race decides. The liveness deadline still
      // bounds it all: a dead path is one that answers nothing, and these retries follow answers.
      const retry = got && ch.rp() && tries < TRIES;
      try {
        if (!(res = await next)) return; // the open failed (reported)
        // Read in chunks, bounded as an SSE event is: an answer without end (a broken server, a
        // middlebox) was read whole, until the engine's string limit (http.ts). Only a 200's: a
        // 204 has no body to read, and any other status fails the link (its abort cancels the body).
        if (res.status === 200 && !(await ch.read(res, (chunk) => (text += chunk).length))) return;
        if (retry && res.status > 499) throw 0;
      } catch (e) {
        if (ch.done() || !retry) throw e; // after a close: nothing reaches the core
        // The gateway's page unread held its connection in Node until GC (http.ts `sent`).
        res?.body?.cancel().catch(() => 0);
        await wait(150 * tries++);
        next = ch.poll(got);
        continue;
      }
      // A 200 that is no frame nor batch (JSON) is a captive portal's page or a meddling proxy, not us: a
      // refusal with its status, as on the event stream, not a protocol error of the server.
      if (res.status !== 200 || !'[{'.includes(text[0]!)) return ch.fail(refused(res));
      tries = 0;
      if (!got++) ctx.events.open();
      // An empty answer (the hold ran out) is delivered too: it proves the server alive. The next
      // poll leaves after the delivery: asked for before it (so a burst's next answer travels
      // while this one is parsed), it measured no faster and cost the client ~8 % more CPU.
      // The live link says when answers keep coming at once with nothing new in them (a server
      // or middlebox that answers every poll at once): then the next poll waits a second.
      if (ch.deliver(text)) await wait(1e3);
      if (!(next = ch.poll(got))) return ch.fail({ code: 'WF_PROTOCOL', message: DEV ? 'the server answered the hello without a welcome' : '' });
    }
  });
