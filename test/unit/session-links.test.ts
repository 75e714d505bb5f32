import { afterEach, describe, expect, test } from 'vitest';
import { createBatcher } from '../../src/protocol/batcher';
import { Outbox } from '../../src/protocol/outbox';
import { GatedInbox } from '../../src/server/durable';
import type { Link } from '../../src/server/link';
import { resolveServerOptions } from '../../src/server/options';
import { SessionLinks } from '../../src/server/session-links';

/*
 * A new writer's hello (`fence`, docs/protocol.md §4): a tab that took a shared session over
 * numbers its messages on from the welcome's ack, so that ack must be final. The old writer's
 * links are closed before the welcome, and the welcome waits for a durable store's commit.
 * Against real sockets: test/integration/writer-fence.test.ts.
 */

type FakeLink = Link & { sent: string[]; closed?: { code: number; reason: string } };
const link = (): FakeLink => {
  const l: FakeLink = { rung: 'ws', sent: [], send: (t) => void l.sent.push(t), close: (code, reason) => void (l.closed = { code, reason }) };
  return l;
};

let open: SessionLinks[] = [];
afterEach(() => {
  for (const s of open) s.release();
  open = [];
});

function setup() {
  const opts = resolveServerOptions({ logger: { warn() {} }, helloTimeoutMs: 5000 });
  const inbox = new GatedInbox();
  const outbox = new Outbox({ maxMessages: 100, maxBytes: 100_000 });
  const links: { s?: SessionLinks } = {};
  const batcher = createBatcher({ clock: { now: () => 0, setTimeout: () => 0, clearTimeout: () => {} }, inbox, outbox, link: () => links.s?.current, slice: () => 1 << 20 });
  const s = new SessionLinks({ id: 'sid', key: 'key', opts, inbox, outbox, batcher, linked: () => {}, end: () => {} });
  links.s = s;
  open.push(s);
  return { s, inbox };
}
const welcomeAck = (l: FakeLink) => (JSON.parse(l.sent[0]!) as { ack: number }).ack;

describe('a new writer fences the old one (SessionLinks)', () => {
  test('without fence, a resume is parked and the old link stays live (a race or a climb)', () => {
    const { s } = setup();
    const a = link(), b = link();
    s.welcome(a, false, 3, 'ra');
    s.welcome(b, true, 3, 'rb');
    expect(s.current).toBe(a);
    expect(a.closed).toBeUndefined();
    expect(s.choose(a)).toBe(true);
  });

  test('with fence, the old writer\'s links (other races) are closed before the welcome; its stragglers are not taken', () => {
    const { s, inbox } = setup();
    const a = link(), a2 = link(), b = link();
    s.welcome(a, false, 3, 'ra');
    s.welcome(a2, true, 3, 'ra2'); // the old writer's climb, parked
    inbox.accept(1);
    s.welcome(b, true, 3, 'rb', true);
    expect(a.closed?.code).toBe(4409);
    expect(a2.closed?.code).toBe(4409);
    expect(s.current).toBe(b);
    expect(welcomeAck(b)).toBe(1);
    expect(s.choose(a)).toBe(false);
    expect(s.choose(a2)).toBe(false);
  });

  test('a fencing hello leaves its own race\'s attempts alone', () => {
    const { s } = setup();
    const old = link(), b1 = link(), b2 = link();
    s.welcome(old, false, 3, 'ra');
    s.welcome(b1, true, 3, 'rb', true);
    s.welcome(b2, true, 3, 'rb', true);
    expect(old.closed?.code).toBe(4409);
    expect(b1.closed).toBeUndefined();
    expect(b2.closed).toBeUndefined();
    expect(s.current).toBe(b1);
    expect(s.choose(b2)).toBe(true); // the client chose the second attempt
    expect(b1.closed?.code).toBe(4409);
  });

  test('with a durable store, the welcome waits until everything received is committed, so its ack is all the server has', () => {
    const { s, inbox } = setup();
    const a = link(), b = link();
    s.welcome(a, false, 3, 'ra');
    inbox.gate = 0; // received 1 and 2, committed nothing yet
    inbox.accept(1);
    inbox.accept(2);
    s.welcome(b, true, 3, 'rb', true);
    expect(a.closed?.code).toBe(4409);
    expect(b.sent).toEqual([]);
    expect(s.choose(b)).toBe(false); // not welcomed: nothing to choose
    inbox.gate = 1;
    s.released();
    expect(b.sent).toEqual([]);
    inbox.gate = 2;
    s.released();
    expect(welcomeAck(b)).toBe(2);
    expect(s.current).toBe(b);
  });

  test('a fenced welcome that never comes is dropped at the hello timeout like any parked link', async () => {
    const opts = resolveServerOptions({ logger: { warn() {} }, helloTimeoutMs: 50 });
    const inbox = new GatedInbox();
    const outbox = new Outbox({ maxMessages: 100, maxBytes: 100_000 });
    const batcher = createBatcher({ clock: { now: () => 0, setTimeout: () => 0, clearTimeout: () => {} }, inbox, outbox, link: () => undefined, slice: () => 1 << 20 });
    let linked: string | null | undefined;
    const s = new SessionLinks({ id: 'sid', key: 'key', opts, inbox, outbox, batcher, linked: (r) => void (linked = r), end: () => {} });
    open.push(s);
    const a = link(), b = link();
    s.welcome(a, false, 3, 'ra');
    inbox.gate = 0;
    inbox.accept(1);
    s.welcome(b, true, 3, 'rb', true);
    await new Promise((r) => setTimeout(r, 150));
    expect(b.closed?.code).toBe(4010);
    expect(b.sent).toEqual([]);
    expect(linked).toBeNull(); // the session waits for a resume
  });
});
