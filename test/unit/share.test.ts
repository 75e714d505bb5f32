import { afterEach, describe, expect, test, vi } from 'vitest';
import { Election } from '../../src/share/election';
import { Mirror } from '../../src/share/mirror';
import { share } from '../../src/share/index';
import { connect } from '../../src/index';
import { platformFrom } from '../../src/platform';
import type { ClientHook, ClientInternals } from '../../src/core/session-tap';
import { Outbox } from '../../src/protocol/outbox';
import { Inbox } from '../../src/protocol/inbox';
import type { Client } from '../../src/core/client';
import { WirefallError } from '../../src/protocol/errors';
import { HOLD_MS } from '../../src/share/relay';
import { fakeTransports, type FakeTransport } from '../support/fake-transport';
import { crashableLocks, fakeChannels, fakeSharedTabs, flushTabs } from '../support/fake-tabs';

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('Election (Web Locks)', () => {
  test('one leader at a time; resigning hands the lock to the next tab in line', async () => {
    const locks = crashableLocks();
    const led: string[] = [];
    const a = new Election(locks, 'x');
    const b = new Election(locks, 'x');
    const c = new Election(locks, 'x');
    a.join(() => led.push('a'));
    b.join(() => led.push('b'));
    c.join(() => led.push('c'));
    await tick();
    expect(led).toEqual(['a']);
    a.resign();
    await tick();
    expect(led).toEqual(['a', 'b']);
    c.resign(); // stops waiting: never leads
    b.resign();
    await tick();
    expect(led).toEqual(['a', 'b']);
  });
});

describe('Mirror', () => {
  const e = (s: number, from = 'A', id = s) => ({ s, ev: 'say', payload: `{"n":${s}}`, from, id });

  test('a new leader resumes with the numbers the old one gave', () => {
    const m = new Mirror();
    m.session = { sid: 's', key: 'k' };
    [1, 2, 3, 4].forEach((s) => m.assign(e(s)));
    m.acknowledge(2);
    const plan = m.seed(7)!;
    expect(plan.seed).toMatchObject({ sid: 's', key: 'k', received: 7, acked: 2 });
    expect(plan.entries.map((x) => x.s)).toEqual([3, 4]);
  });

  test('merging what other tabs saw: union of assignments, minus any ack', () => {
    const a = new Mirror();
    const b = new Mirror();
    a.assign(e(1));
    b.assign(e(1));
    b.assign(e(2, 'B', 1));
    a.acknowledge(1);
    b.session = { sid: 's', key: 'k' };
    a.merge(b.state());
    expect(a.session).toEqual({ sid: 's', key: 'k' });
    expect(a.entries().map((x) => [x.s, x.from])).toEqual([[2, 'B']]);
    expect(a.seed(0)!.seed.acked).toBe(1);
  });

  test('a lost session renumbers what remains from 1', () => {
    const m = new Mirror();
    [5, 6].forEach((s) => m.assign(e(s)));
    m.renumber();
    expect(m.entries().map((x) => x.s)).toEqual([1, 2]);
    expect(m.next).toBe(3);
  });
});

describe('share() without Web Locks or BroadcastChannel', () => {
  test('the context keeps its own connection and says so: role solo', () => {
    const c = connect('http://127.0.0.1:1/wirefall', { share: share(), transports: ['longpoll'], reconnect: false, platform: { locks: undefined, channel: undefined } });
    expect(c.role).toBe('solo');
    c.close();
  });
});

/**
 * BroadcastChannel as browsers run it: a message reaches every other channel of the same name,
 * as a structured clone, in a later task. A tab can be cut off (its renderer died: it neither
 * sends nor receives) and single messages can be lost (a crash between two channels' writes).
 */
type Say = { from: string; n: number };
/** A send whose outcome the test does not follow (it may still be pending when its tab closes). */
const quiet = <T>(p: Promise<T>): Promise<T> => (p.catch(() => {}), p);
type Frame = { t: string; s?: number; d?: Say; sid?: string; ack?: number };

describe('hand-over after the leader crashed (fake tabs): the resumed welcome settles the numbers', () => {
  afterEach(() => void vi.useRealTimers());
  const flush = flushTabs;

  /** Three tabs; A leads on a welcomed session. */
  async function start() {
    const { tabs, channels, locks } = fakeSharedTabs<{ client: { say: Say }; server: Record<string, never> }>(['A', 'B', 'C']);
    await flush(200);
    const [A] = tabs;
    expect(tabs.map((x) => x.c.role)).toEqual(['leader', 'follower', 'follower']);
    A!.t.last().greet().welcome({ sid: 's1', key: 'k1' });
    await flush();
    expect(tabs.map((x) => x.c.state)).toEqual(['open', 'open', 'open']);
    /** Everything the server was written, as msg frames (what the server's transport received). */
    const written = (t: FakeTransport) => t.frames.filter((f): f is Frame => (f as Frame).t === 'msg') as Frame[];
    return { tabs, channels, locks, written };
  }

  /** A dies (no JS runs any more), B takes over: returns B's new transport, hello answered with a resumed welcome acking `ack`. */
  async function crashAndResume(w: Awaited<ReturnType<typeof start>>, ack: number, before?: () => void) {
    const [A, B] = w.tabs;
    w.channels.kill('A');
    w.locks.crash('A');
    vi.spyOn(A!.c, 'close'); // A's timers still exist in this process; its channel is dead, so they reach no one
    await flush(150); // B's sync window
    expect(B!.c.role).toBe('leader');
    before?.();
    const t = B!.t.last();
    expect(t.frames[0]).toMatchObject({ t: 'hello', sid: 's1', key: 'k1' });
    t.greet().welcome({ sid: 's1', key: 'k1', resumed: true, ack });
    await flush();
    return t;
  }

  /** Where a send stands, after the microtasks queued so far ran. */
  const settled = async (p: Promise<unknown>) => {
    let state = 'pending';
    p.then(() => (state = 'acked'), () => (state = 'rejected'));
    for (let i = 0; i < 10; i++) await Promise.resolve();
    return state;
  };

  test('the server got a send no tab recorded: the next one is numbered after it, not taken for it', async () => {
    const w = await start();
    const [A, B, C] = w.tabs;
    const c1 = C!.c.send('say', { from: 'C', n: 1 });
    await flush();
    expect(w.written(A!.t.last()).map((f) => f.s)).toEqual([1]);
    A!.t.last().receive({ t: 'ack', a: 1 });
    await flush();
    expect(await settled(c1)).toBe('acked');
    // A's own send 2 reaches the socket, its `assigned` post dies with the renderer.
    w.channels.lose((m) => m.t === 'assigned' && m.e.s === 2);
    quiet(A!.c.send('say', { from: 'A', n: 1 }));
    await flush();
    expect(w.written(A!.t.last()).map((f) => f.s)).toEqual([1, 2]);
    w.channels.lose(() => false);
    let c2!: Promise<void>;
    // C sends during the hand-over: B numbers it 2 before the welcome, as the mirrors suggest.
    const t = await crashAndResume(w, 2, () => void (c2 = quiet(C!.c.send('say', { from: 'C', n: 2 }))));
    expect(written(t)).toEqual([{ t: 'msg', s: 3, ev: 'say', d: { from: 'C', n: 2 } }]);
    expect(await settled(c2)).toBe('pending'); // the server's 2 is A's message, not C's
    expect(B!.c.buffered.messages).toBe(1);
    t.receive({ t: 'ack', a: 3 });
    await flush();
    expect(await settled(c2)).toBe('acked');
    // Every mirror followed: nothing left unacknowledged, and the next send is 4.
    expect([B!.c.buffered.messages, C!.c.buffered.messages]).toEqual([0, 0]);
    quiet(C!.c.send('say', { from: 'C', n: 3 }));
    await flush();
    expect(written(t).map((f) => f.s)).toEqual([3, 4]);
    w.tabs.forEach((x) => x.c.close());
  });

  for (const ack of [1, 2]) {
    test(`a hole in the mirrors (3 recorded, 2 not) and the server acks ${ack}: numbering stays contiguous`, async () => {
      const w = await start();
      const [A, , C] = w.tabs;
      const c1 = C!.c.send('say', { from: 'C', n: 1 });
      await flush();
      A!.t.last().receive({ t: 'ack', a: 1 });
      await flush();
      await c1;
      w.channels.lose((m) => m.t === 'assigned' && m.e.s === 2);
      quiet(A!.c.send('say', { from: 'A', n: 1 })); // 2: unknown to the tabs
      await flush();
      w.channels.lose(() => false);
      const c2 = C!.c.send('say', { from: 'C', n: 2 }); // 3: in every mirror
      await flush();
      expect(w.written(A!.t.last()).map((f) => f.s)).toEqual([1, 2, 3]);
      expect(C!.c.buffered.messages).toBe(1);
      // ack 1: the server got neither 2 nor 3 (the old socket died first); ack 2: it got 2 only.
      const t = await crashAndResume(w, ack);
      expect(written(t)).toEqual([{ t: 'msg', s: ack + 1, ev: 'say', d: { from: 'C', n: 2 } }]);
      expect(await settled(c2)).toBe('pending');
      const c3 = C!.c.send('say', { from: 'C', n: 3 });
      await flush();
      expect(written(t).map((f) => f.s)).toEqual([ack + 1, ack + 2]);
      t.receive({ t: 'ack', a: ack + 2 });
      await flush();
      expect([await settled(c2), await settled(c3)]).toEqual(['acked', 'acked']);
      expect(C!.c.buffered.messages).toBe(0);
      w.tabs.forEach((x) => x.c.close());
    });
  }

  test('nothing unknown: the mirrored sends keep their numbers; what the server had is acknowledged, the rest resent', async () => {
    const w = await start();
    const [A, , C] = w.tabs;
    const c1 = C!.c.send('say', { from: 'C', n: 1 });
    const c2 = C!.c.send('say', { from: 'C', n: 2 });
    await flush();
    expect(w.written(A!.t.last()).map((f) => f.s)).toEqual([1, 2]);
    // The server got both, but its ack died with A.
    const t = await crashAndResume(w, 1);
    expect([await settled(c1), await settled(c2)]).toEqual(['acked', 'pending']);
    expect(written(t)).toEqual([{ t: 'msg', s: 2, ev: 'say', d: { from: 'C', n: 2 } }]);
    t.receive({ t: 'ack', a: 2 });
    await flush();
    expect(await settled(c2)).toBe('acked');
    w.tabs.forEach((x) => x.c.close());
  });

  test('the server lost the session: a kept send is acknowledged under its new number in every mirror', async () => {
    const w = await start();
    const [A, , C] = w.tabs;
    const c1 = quiet(C!.c.send('say', { from: 'C', n: 1 }));
    await flush();
    expect(w.written(A!.t.last()).map((f) => f.s)).toEqual([1]);
    A!.t.last().fail({ code: 'WF_NETWORK', message: 'cut' } as never);
    await flush();
    const c2 = C!.c.send('say', { from: 'C', n: 2 }); // 2, never written before the loss
    await flush(2000);
    const t = A!.t.last();
    expect(t.frames[0]).toMatchObject({ t: 'hello', sid: 's1' });
    t.greet().welcome({ sid: 's2', key: 'k2', resumed: false });
    await flush();
    await expect(c1).rejects.toMatchObject({ code: 'WF_SESSION_LOST' });
    expect(written(t)).toEqual([{ t: 'msg', s: 1, ev: 'say', d: { from: 'C', n: 2 } }]);
    t.receive({ t: 'ack', a: 1 });
    await flush();
    await c2;
    // The next send is 2 on the new session, and every mirror records it.
    quiet(C!.c.send('say', { from: 'C', n: 3 }));
    await flush();
    expect(written(t).map((f) => f.s)).toEqual([1, 2]);
    expect(w.tabs.map((x) => x.c.buffered.messages)).toEqual([1, 1, 1]);
    w.tabs.forEach((x) => x.c.close());
  });

  describe('a follower\'s send is written only once its tab confirmed its number', () => {
    const tabId = (c: unknown) => (c as { tab: string }).tab;
    /** The sends of tab C the server was written, over every transport of both leaders. */
    const cSends = (w: Awaited<ReturnType<typeof start>>) =>
      w.tabs.flatMap((x) => x.t.made.flatMap((t) => written(t))).filter((f) => f.d?.from === 'C').map((f) => f.d!.n);

    test('the leader crashes before any tab heard `assigned`: it never wrote the send, the tab submits it again, the server gets it once', async () => {
      const w = await start();
      const [A] = w.tabs;
      const C = w.tabs[2]!;
      // A numbers C's send and posts `assigned`; the post dies with A's renderer.
      w.channels.lose((m) => m.t === 'assigned' && m.e.from === tabId(C.c));
      const c1 = quiet(C.c.send('say', { from: 'C', n: 1 }));
      await flush(100);
      expect(written(A!.t.last())).toEqual([]); // held: C never confirmed
      w.channels.lose(() => false);
      const t = await crashAndResume(w, 0);
      // C still held the call as unnumbered and submitted it to B: written once, as 1.
      expect(written(t)).toEqual([{ t: 'msg', s: 1, ev: 'say', d: { from: 'C', n: 1 } }]);
      t.receive({ t: 'ack', a: 1 });
      await flush();
      await c1;
      expect(cSends(w)).toEqual([1]);
      w.tabs.forEach((x) => x.c.close());
    });

    test('the leader crashes after C heard `assigned` but before C\'s confirmation arrived: C does not submit it again, the new leader sends it from the mirrors, once', async () => {
      const w = await start();
      const [A] = w.tabs;
      const C = w.tabs[2]!;
      w.channels.lose((m) => m.t === 'confirm');
      const c1 = C.c.send('say', { from: 'C', n: 1 });
      await flush(100);
      expect(written(A!.t.last())).toEqual([]);
      expect(C.c.buffered.messages).toBe(1); // in C's mirror, numbered 1
      w.channels.lose(() => false);
      const t = await crashAndResume(w, 0);
      expect(written(t)).toEqual([{ t: 'msg', s: 1, ev: 'say', d: { from: 'C', n: 1 } }]);
      t.receive({ t: 'ack', a: 1 });
      await flush();
      await c1;
      expect(cSends(w)).toEqual([1]);
      w.tabs.forEach((x) => x.c.close());
    });

    for (const ack of [0, 1]) {
      test(`the leader crashes after writing the confirmed send (the server ${ack ? 'got' : 'did not get'} it): the server has it once`, async () => {
        const w = await start();
        const [A] = w.tabs;
        const C = w.tabs[2]!;
        const c1 = C.c.send('say', { from: 'C', n: 1 });
        await flush();
        expect(written(A!.t.last()).map((f) => f.s)).toEqual([1]);
        const t = await crashAndResume(w, ack);
        if (!ack) t.receive({ t: 'ack', a: 1 });
        await flush();
        await c1;
        expect(written(t).map((f) => f.s)).toEqual(ack ? [] : [1]);
        expect(cSends(w).length - (ack ? 0 : 1)).toBe(1); // A's write, plus B's resend when the server did not have it
        w.tabs.forEach((x) => x.c.close());
      });
    }

    test('C closes before confirming: its send is written at its `leave`, and the sends held behind it follow in order', async () => {
      const w = await start();
      const [A, B] = w.tabs;
      const C = w.tabs[2]!;
      w.channels.lose((m) => m.t === 'confirm' && m.from === tabId(C.c));
      quiet(C.c.send('say', { from: 'C', n: 1 }));
      await flush();
      const b1 = B!.c.send('say', { from: 'B', n: 1 });
      const a1 = A!.c.send('say', { from: 'A', n: 1 }); // the leader's own: no confirmation, but after C's (B's arrives a hop later)
      await flush(100);
      expect(written(A!.t.last())).toEqual([]);
      C.c.close();
      await flush();
      expect(written(A!.t.last()).map((f) => [f.s, f.d!.from])).toEqual([[1, 'C'], [2, 'A'], [3, 'B']]);
      A!.t.last().receive({ t: 'ack', a: 3 });
      await flush();
      await Promise.all([b1, a1]);
      A!.c.close();
      B!.c.close();
    });

    test('C dies without a word before confirming: after HOLD_MS the leader writes its send anyway, and what waited behind it', async () => {
      const w = await start();
      const [A, B] = w.tabs;
      const C = w.tabs[2]!;
      w.channels.lose((m) => m.t === 'confirm' && m.from === tabId(C.c));
      quiet(C.c.send('say', { from: 'C', n: 1 }));
      await flush();
      w.channels.kill('C');
      const b1 = B!.c.send('say', { from: 'B', n: 1 });
      await flush(HOLD_MS - 50);
      expect(written(A!.t.last())).toEqual([]);
      await flush(50);
      expect(written(A!.t.last()).map((f) => [f.s, f.d!.from])).toEqual([[1, 'C'], [2, 'B']]);
      A!.t.last().receive({ t: 'ack', a: 2 });
      await flush();
      await b1;
      w.tabs.forEach((x) => x.c.close());
    });
  });

  const written = (t: FakeTransport) => t.frames.filter((f) => (f as Frame).t === 'msg') as Frame[];
});

describe('relay: any client method a tab calls runs on the leader\'s client, its outcome goes back to that tab', () => {
  afterEach(() => void vi.useRealTimers());
  const flush = async (ms = 0) => {
    await vi.advanceTimersByTimeAsync(ms);
    for (let i = 0; i < 6; i++) await vi.advanceTimersByTimeAsync(1);
  };

  /**
   * A client that is only its surface: `echo` answers later with what it got and who ran it,
   * `boom` rejects with a WirefallError, `throws` throws synchronously, `send` pushes to a real
   * outbox that the share hook sees into (as the real client's is) and resolves on `ack`.
   */
  function fakeClient(hook: ClientHook | undefined, ran: string[]) {
    const outbox = new Outbox({ maxMessages: 100, maxBytes: 1 << 20 });
    // The session, which is also the links' host (src/core/session-tap.ts).
    const s = { outbox, inbox: new Inbox(), welcome: () => undefined, deliver: () => {}, wake: () => {}, bye: 1000 } as unknown as ClientInternals;
    hook?.(s);
    const c = {
      state: 'open',
      rung: 'ws',
      attempts: [],
      rtt: 3,
      role: 'solo',
      on: () => () => {},
      close: () => {},
      echo: (x: unknown) => (ran.push(`echo ${JSON.stringify(x)}`), Promise.resolve({ got: x })),
      boom: () => Promise.reject(new WirefallError('WF_TOO_LARGE', 'too big', { status: 413 })),
      throws: () => {
        throw new WirefallError('WF_INVALID', 'bad arguments');
      },
      send: (type: string, data: unknown) => s.outbox.push(type, JSON.stringify(data)),
    };
    return { client: c as unknown as Client, ack: (n: number) => void s.outbox.ack(n, 0) };
  }

  async function start() {
    vi.useFakeTimers();
    const channels = fakeChannels();
    const locks = crashableLocks();
    const ran: string[] = [];
    let leaderClient: ReturnType<typeof fakeClient> | undefined;
    const tabs = ['A', 'B', 'C'].map((name) => {
      const platform = platformFrom({ locks, channel: channels.for(name), onLeave: () => () => {}, onWake: () => () => {} });
      return share()({
        url: 'http://h.test/wf',
        options: {},
        platform,
        make: (hook) => (leaderClient = fakeClient(hook as ClientHook | undefined, ran)).client,
      }) as unknown as Client & { call(method: string, args: unknown[]): Promise<unknown> };
    });
    await flush(200);
    expect(tabs.map((x) => x.role)).toEqual(['leader', 'follower', 'follower']);
    return { tabs, ran, leader: () => leaderClient! };
  }

  test('results go to the tab that asked, even when two tabs use the same call id', async () => {
    const { tabs, ran } = await start();
    const [, B, C] = tabs;
    // Each tab's first call has id 1: only the `to` of the answer tells them apart.
    const b = B!.call('echo', ['from B']);
    const c = C!.call('echo', [{ from: 'C' }]);
    await flush();
    expect(ran.sort()).toEqual(['echo "from B"', 'echo {"from":"C"}']);
    await expect(b).resolves.toEqual({ got: 'from B' });
    await expect(c).resolves.toEqual({ got: { from: 'C' } });
    tabs.forEach((x) => x.close());
  });

  test('errors come back as WirefallErrors with their code and fields; calls that cannot be relayed say so', async () => {
    const { tabs } = await start();
    const [, B] = tabs;
    const boom = quiet(B!.call('boom', []));
    const thrown = quiet(B!.call('throws', []));
    const close = quiet(B!.call('close', []));
    const missing = quiet(B!.call('nope', []));
    await flush();
    await expect(boom).rejects.toMatchObject({ code: 'WF_TOO_LARGE', message: 'too big', status: 413 });
    await expect(boom).rejects.toBeInstanceOf(WirefallError);
    await expect(thrown).rejects.toMatchObject({ code: 'WF_INVALID', message: 'bad arguments' });
    await expect(close).rejects.toMatchObject({ code: 'WF_INVALID' });
    await expect(missing).rejects.toMatchObject({ code: 'WF_INVALID' });
    tabs.forEach((x) => x.close());
  });

  test('a send is mirrored in every tab and leaves every mirror when the leader\'s client settles it', async () => {
    const { tabs, leader } = await start();
    const [, B] = tabs;
    let settled = false;
    const b = B!.send('say' as never, { n: 1 } as never).then(() => (settled = true));
    await flush();
    expect(tabs.map((x) => (x as unknown as { buffered: { messages: number } }).buffered.messages)).toEqual([1, 1, 1]);
    expect(settled).toBe(false);
    leader().ack(1);
    await flush();
    await b;
    expect(settled).toBe(true);
    expect(tabs.map((x) => (x as unknown as { buffered: { messages: number } }).buffered.messages)).toEqual([0, 0, 0]);
    tabs.forEach((x) => x.close());
  });
});
