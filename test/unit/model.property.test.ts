import { afterEach, beforeEach, expect, test, vi } from 'vitest';
import fc from 'fast-check';
import { connect, type WirefallError } from '../../src/index';
import { fakeTransports, type FakeTransport } from '../support/fake-transport';
import { mapStorage } from '../support/map-storage';

/*
 * A model-based property test of the client core against a model server, on fake transports and
 * a fake clock, so that thousands of schedules run in seconds: random sends both ways, writes
 * read late, acks withheld, cuts, stalls, races answered or refused, climbs, the server losing the
 * session, the clock jumping. Then the network heals and everything must settle. The property:
 * each side received each message at most once, in order; every send the app was told succeeded
 * was received; a send fails only with WF_SESSION_LOST (the server lost the session); nothing
 * stays pending once the network is good, nobody waits in whenWritable(), and after close() no
 * timer is left. 300 schedules take about a second; RUNS=5000 LEN=150 searches harder (8 s).
 */
type Api = { client: { up: { n: number } }; server: { down: { n: number } } };
type Frame = { t: string; s?: number; a?: number; n?: number; ev?: string; d?: unknown; sid?: string; key?: string; ack?: number };

beforeEach(() => void vi.useFakeTimers());
afterEach(() => void vi.useRealTimers());

/** One session as the model server keeps it. */
interface Session {
  sid: string;
  key: string;
  /** Client messages received in order (the highest number). */
  received: number;
  /** Server messages not yet acknowledged, and the next number. */
  out: { s: number; n: number }[];
  next: number;
  /** The transport that claimed the session (spoke first after its welcome). */
  link?: FakeTransport;
}

function modelServer(t: ReturnType<typeof fakeTransports>) {
  const sessions = new Map<string, Session>();
  let ids = 0;
  /** What the app on the server received (every session, in order), and what the client acknowledged. */
  const got: number[] = [];
  const ackedByClient = new Set<number>();
  /** Per transport: the session it was welcomed into, how much of its writes was read. */
  const welcomed = new Map<FakeTransport, Session>();
  const read = new Map<FakeTransport, number>();
  const answered = new Set<FakeTransport>();
  const dead = (x: FakeTransport) => x.closed !== undefined;

  const frames = (text: string): Frame[] => [JSON.parse(text)].flat();
  const msg = (m: { s: number; n: number }, a?: number) => ({ t: 'msg', ...(a === undefined ? {} : { a }), s: m.s, ev: 'down', d: { n: m.n } });

  return {
    got,
    ackedByClient,
    sessions,
    /** Transports the client opened that the server has not answered yet. */
    unanswered: () => t.made.filter((x) => !answered.has(x) && !dead(x)),
    /** Answers a new transport: the hello's session resumed, or a new one (`lose`: the session is gone). */
    welcome(x: FakeTransport) {
      answered.add(x);
      const hello = x.frames[0] as Frame;
      let s = hello.sid ? sessions.get(hello.sid) : undefined;
      const resumed = !!s && s.key === hello.key;
      if (!resumed) {
        s = { sid: `s${++ids}`, key: `k${ids}`, received: 0, out: [], next: 1 };
        sessions.set(s.sid, s);
      }
      welcomed.set(x, s!);
      read.set(x, x.sent.length);
      x.open().receive({ t: 'welcome', v: 3, sid: s!.sid, key: s!.key, hb: 5000, ack: s!.received, resumed, max: 1 << 20, pa: 1, run: 1 });
    },
    refuse(x: FakeTransport) {
      answered.add(x);
      x.fail({ code: 'WF_NETWORK', message: 'refused' });
    },
    /** The server forgets a session (it expired): its link is closed. */
    lose(s: Session) {
      sessions.delete(s.sid);
      if (s.link && !dead(s.link)) s.link.fail({ code: 'WF_DISCONNECTED', message: 'session gone' });
    },
    cut(s: Session) {
      if (s.link && !dead(s.link)) s.link.fail({ code: 'WF_DISCONNECTED', message: 'cut' });
      s.link = undefined;
    },
    /** Sends `k` messages on the session (written if it has a live link, else kept for the replay). */
    send(s: Session, k: number, counter: { n: number }) {
      for (let i = 0; i < k; i++) {
        const m = { s: s.next++, n: counter.n++ };
        s.out.push(m);
        if (s.link && !dead(s.link)) s.link.receive(msg(m));
      }
    },
    /** Reads what the client wrote on every welcomed transport; `ack`: answers with an ack. */
    readAll(ack: boolean) {
      for (const [x, s] of welcomed) {
        if (dead(x) || !sessions.has(s.sid)) continue;
        const from = read.get(x)!;
        if (x.sent.length === from) continue;
        read.set(x, x.sent.length);
        if (s.link !== x) {
          // The claim: speaking first after the welcome takes the session; what was not
          // acknowledged is replayed on it.
          s.link = x;
          const claim = frames(x.sent[from]!)[0]!;
          if (claim.t === 'ack') s.out = s.out.filter((m) => m.s > claim.a!);
          if (s.out.length) x.receive(...s.out.map((m) => msg(m)));
        }
        const reply: object[] = [];
        for (const text of x.sent.slice(from)) {
          for (const f of frames(text)) {
            if (f.a !== undefined && (f.t === 'ack' || f.t === 'msg' || f.t === 'run')) {
              for (const m of s.out) if (m.s <= f.a) ackedByClient.add(m.n);
              s.out = s.out.filter((m) => m.s > f.a!);
            }
            if (f.t === 'msg' || f.t === 'run') {
              const ds = f.t === 'run' ? (f.d as { n: number }[]) : [f.d as { n: number }];
              ds.forEach((d, i) => {
                const seq = f.s! + i;
                if (seq === s.received + 1) (s.received = seq), got.push(d.n);
                else if (seq > s.received + 1) throw new Error(`gap: ${seq} after ${s.received}`);
              });
            } else if (f.t === 'ping') reply.push({ t: 'pong', n: f.n });
          }
        }
        if (ack) reply.push({ t: 'ack', a: s.received });
        if (reply.length && !dead(x)) x.receive(...reply);
      }
    },
  };
}

const action = fc.oneof(
  { arbitrary: fc.record({ k: fc.constant('up' as const), n: fc.integer({ min: 1, max: 30 }) }), weight: 4 },
  { arbitrary: fc.record({ k: fc.constant('down' as const), n: fc.integer({ min: 1, max: 30 }) }), weight: 4 },
  { arbitrary: fc.record({ k: fc.constant('read' as const), ack: fc.boolean() }), weight: 4 },
  { arbitrary: fc.record({ k: fc.constant('answer' as const), refuse: fc.boolean() }), weight: 2 },
  { arbitrary: fc.record({ k: fc.constant('cut' as const) }), weight: 1 },
  { arbitrary: fc.record({ k: fc.constant('lose' as const) }), weight: 1 },
  { arbitrary: fc.record({ k: fc.constant('time' as const), ms: fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 120_000 })) }), weight: 3 },
  // The wall clock jumps ahead and the timers fire late (a laptop waking up).
  { arbitrary: fc.record({ k: fc.constant('jump' as const), ms: fc.integer({ min: 0, max: 600_000 }) }), weight: 1 },
  { arbitrary: fc.record({ k: fc.constant('wake' as const), why: fc.constantFrom('online' as const, 'visible' as const) }), weight: 1 },
);

test('any schedule: at most once, in order, both ways; what succeeded arrived; everything settles', async () => {
  await fc.assert(
    // `closeAt`: the app closes the client after that many actions (rarely within the schedule).
    fc.asyncProperty(fc.array(action, { minLength: 10, maxLength: Number(process.env.LEN ?? 60), size: 'max' }), fc.boolean(), fc.nat(300), async (actions, early, closeAt) => {
      const t = fakeTransports();
      let wake: ((r: 'online' | 'visible') => void) | undefined;
      const c = connect<Api>('http://h.test/wf', {
        earlyFallback: early,
        transports: ['ws', 'sse'],
        transportFactories: { ws: t.factory, sse: t.factory },
        upgradeProbe: { first: 500, max: 2000 },
        // A small high-water mark: backpressure comes and goes (200 B is about 15 messages).
        outbox: { highWaterBytes: 200 },
        platform: { storage: mapStorage(), random: () => 0.5, onWake: (l) => ((wake = l), () => {}) },
      });
      const server = modelServer(t);
      const down: number[] = [];
      c.subscribe('down', (d) => down.push(d.n));
      const outcome: string[] = [];
      const up = { n: 0 };
      const downN = { n: 0 };
      const live = () => [...server.sessions.values()].at(-1);
      try {
        for (const [i, a] of actions.entries()) {
          if (i === closeAt) c.close();
          if (a.k === 'up') for (let j = 0; j < a.n; j++) {
            const n = up.n++;
            outcome[n] = 'pending';
            c.send('up', { n }).then(() => (outcome[n] = 'ok'), (e: WirefallError) => (outcome[n] = e.code));
          }
          else if (a.k === 'down') live() && server.send(live()!, a.n, downN);
          else if (a.k === 'read') server.readAll(a.ack);
          else if (a.k === 'answer') server.unanswered().forEach((x) => (a.refuse ? server.refuse(x) : server.welcome(x)));
          else if (a.k === 'cut') live() && server.cut(live()!);
          else if (a.k === 'lose') live() && server.lose(live()!);
          else if (a.k === 'wake') wake?.(a.why);
          else if (a.k === 'jump') vi.setSystemTime(Date.now() + a.ms);
          else await vi.advanceTimersByTimeAsync(a.ms);
          await vi.advanceTimersByTimeAsync(0);
        }
        const closed = c.state === 'closed';
        // The network heals: every transport is answered, every write read and acknowledged.
        for (let i = 0; i < 400 && !closed && !(c.state === 'open' && outcome.every((o) => o !== 'pending') && c.buffered.messages === 0 && !live()?.out.length); i++) {
          server.unanswered().forEach((x) => server.welcome(x));
          server.readAll(true);
          await vi.advanceTimersByTimeAsync(50);
        }
        const increasing = (xs: number[]) => xs.every((x, i) => i === 0 || x > xs[i - 1]!);
        expect({ up: increasing(server.got), down: increasing(down) }).toEqual({ up: true, down: true });
        const got = new Set(server.got);
        const allowed = closed ? ['WF_SESSION_LOST', 'WF_CLOSED'] : ['WF_SESSION_LOST'];
        const bad = outcome.flatMap((o, n) => (o === 'ok' ? (got.has(n) ? [] : [`${n}: ok, not received`]) : allowed.includes(o) ? [] : [`${n}: ${o}`]));
        expect(bad).toEqual([]);
        const received = new Set(down);
        expect([...server.ackedByClient].filter((n) => !received.has(n))).toEqual([]);
        expect(c.buffered.messages).toBe(0);
        // Nothing is buffered: nobody waits to write (this hung once the outbox emptied without an ack).
        let writable = false;
        void c.whenWritable().then(() => (writable = true));
        await vi.advanceTimersByTimeAsync(0);
        expect(writable).toBe(true);
        // Closed: every timer of the client stopped (none of the test's own is left either).
        if (closed) expect(vi.getTimerCount()).toBe(0);
        else expect(c.state).toBe('open');
      } finally {
        c.close();
      }
    }),
    { numRuns: Number(process.env.RUNS ?? 300) },
  );
}, 120_000);
