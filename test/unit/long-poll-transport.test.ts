import { expect, test } from 'vitest';
import { longPollTransport } from '../../src/transports/long-polling';
import type { Transport, TransportFailure } from '../../src/transports/transport';
import { platformFrom } from '../../src/platform';

const welcome = { t: 'welcome', v: 3, sid: 's1', key: 'k1', hb: 5000, ack: 0, resumed: false, max: 1 << 20 };

/**
 * A long-poll rung on a fake fetch. The open answers the greeting and the welcome; each poll
 * waits until the test answers it (`answer`). `log` records, in order, every poll asked for and
 * every answer handed to the core.
 */
function rung(onMessage: (text: string, t: Transport) => void = () => {}) {
  const log: string[] = [];
  const polls: { answer: (text: string) => void; signal: AbortSignal }[] = [];
  const closed: TransportFailure[] = [];
  let polled = 0;
  const fetch = (async (url: string, init?: RequestInit) => {
    const q = new URL(url).searchParams;
    if (!q.has('sid')) return new Response(JSON.stringify([{ t: 'greet', v: [3] }, welcome]), { status: 200 });
    expect(q.get('poll')).toBe('1');
    expect(init?.body).toBe('k1'); // the key in the body, never in the URL
    log.push(`poll ${++polled}`);
    const signal = init!.signal!;
    return new Promise<Response>((resolve, reject) => {
      signal.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')));
      polls.push({ answer: (text) => resolve(new Response(text, { status: 200 })), signal });
    });
  }) as typeof globalThis.fetch;
  const t: Transport = longPollTransport({
    rung: { name: 'longpoll', url: 'http://h.test/wf' },
    hello: '{"t":"hello","v":3}',
    platform: platformFrom({ fetch }),
    events: {
      open() {},
      message: (text) => {
        log.push(`deliver ${String(text)}`);
        onMessage(String(text), t);
      },
      close: (f) => void closed.push(f),
    },
  });
  return { log, polls, closed };
}

/** Lets the fake fetch's promises and the transport's awaits run. */
const settle = async (until: () => boolean) => {
  for (let i = 0; i < 100 && !until(); i++) await new Promise((r) => setTimeout(r, 0));
  expect(until()).toBe(true);
};

test('the next poll leaves before an answer is delivered; the first answer (the welcome) is delivered first', async () => {
  const { log, polls, closed } = rung();
  await settle(() => polls.length === 1);
  // The welcome names the session, so the first poll can only follow its delivery.
  expect(log).toEqual([`deliver ${JSON.stringify([{ t: 'greet', v: [3] }, welcome])}`, 'poll 1']);
  polls[0]!.answer('[{"t":"msg","s":1,"ev":"a","d":1}]');
  await settle(() => polls.length === 2);
  polls[1]!.answer('[]');
  await settle(() => polls.length === 3);
  // Every later answer: its successor poll was asked for before the core got it.
  expect(log.slice(2)).toEqual(['poll 2', 'deliver [{"t":"msg","s":1,"ev":"a","d":1}]', 'poll 3', 'deliver []']);
  expect(closed).toEqual([]);
});

test('an answer that makes the core close the transport: the poll already asked for is aborted, and nothing is reported', async () => {
  const { log, polls, closed } = rung((text, t) => text.includes('bye') && t.close(4000));
  await settle(() => polls.length === 1);
  polls[0]!.answer('[{"t":"bye","code":4000}]');
  await settle(() => polls.length === 2 && polls[1]!.signal.aborted);
  expect(log.slice(1)).toEqual(['poll 1', 'poll 2', 'deliver [{"t":"bye","code":4000}]']);
  // The aborted poll's rejection runs its course within a few turns: no failure may come of it.
  for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 0));
  expect(closed).toEqual([]);
});
