/**
 * How the sharing layer sees into the leader's client and seeds one. The core knows nothing of
 * tabs and calls no hook: `tapHook` wraps the few methods of a new client's session that a
 * hand-over needs to hear from (which number a send got, which server message arrived with which
 * number, the session's id) and can start it from a session another context began, so that a new
 * leader tab resumes it instead of opening another. Only apps that import wirefall/share carry it.
 */
import type { ClientHook } from '../core/session-tap';
import type { Outbox } from '../protocol/outbox';
import { holdLast } from './hold';
import { seedOutbox } from './seeding';

export interface SessionSeed {
  sid: string;
  key: string;
  /** The last server message delivered (the resume `ack`). */
  received: number;
  /** The highest client sequence number the server acknowledged. */
  acked: number;
  /**
   * Unacknowledged sends with the numbers they were given, ascending, all above `acked`. A hole
   * (a number written but recorded nowhere) is allowed: the resumed welcome's `ack` settles where
   * numbering continues, and `renumbered` reports what moved.
   */
  entries: { s: number; ev: string; payload: string; enc?: string }[];
}

export interface SessionTap {
  /** Start from this session (its sends settle through the promises `seeded` receives). */
  seed?: SessionSeed;
  /** The promises of the seeded sends, in order (called once, at construction). */
  seeded?(settled: Promise<void>[]): void;
  /**
   * A send got its sequence number. Called before it is written to any transport. `enc`: the
   * payload's encoding when it is not plain JSON (`b64`: bytes inside). Calling `hold()` (only
   * during this call) keeps the send, and every later one, from being written until the function
   * it returns is called: the sharing layer waits for the sending tab to confirm its number.
   */
  assigned?(s: number, ev: string, payload: string, enc: string | undefined, hold: () => () => void, n: number): void;
  /**
   * A seeded client's first resumed welcome acknowledged `ack`: the seeded sends up to it are
   * acknowledged and every send above it now runs on contiguously from `ack + 1` (`moved` lists
   * each number that changed, `from` → `to`; often none). Called before any of them is written.
   */
  renumbered?(moved: { from: number; to: number }[], ack: number): void;
  /** A server message arrived in order; called before the subscribers hear it. */
  delivered?(s: number, ev: string, data: unknown): void;
  /** A welcome gave the session's id (new, or resumed). */
  welcomed?(sid: string, key: string, resumed: boolean): void;
  /** Asked when the client closes: true leaves the session for another context to resume (close 1001, not 1000). */
  keepSession?(): boolean;
}

/** The client hook that gives `tap` what it asks for. */
export const tapHook =
  (tap: SessionTap): ClientHook =>
  (c) => {
    // The client's session is also its links' host (src/core/session-tap.ts).
    const s = c;
    const host = c;
    const { outbox, inbox } = s;
    const seed = tap.seed;
    // A promise per send (no groups, src/protocol/outbox.ts): the tabs' sends are held one by one.
    outbox.group = 0;
    let seeded = () => false;
    if (seed) {
      // A hand-over: resume the session another context began, with its numbers.
      s.id = seed;
      inbox.received = seed.received;
      inbox.resumed();
      // The welcome's ack settles a seeded session's numbers; the mirrors follow before any is written.
      const seeding = seedOutbox(outbox, seed.acked, seed.entries, 0, (moved, ack) => tap.renumbered?.(moved, ack));
      seeded = seeding.seeded;
      tap.seeded?.(seeding.promises);
    }
    // Wrapped after the seeding, which pushes the seeded sends: a new send is the last entry
    // pushed (a full outbox adds none), and is told before the push returns, so before any write.
    const push = outbox.push.bind(outbox);
    outbox.push = ((ev: string, payload: string, settle?: true, bytes?: number, enc?: string) => {
      const before = outbox.q.length;
      const p = push(ev, payload, settle, bytes, enc);
      // `n`: the payload's bytes, which the outbox measured already (`buffered` counts them, in every tab).
      if (outbox.q.length > before) tap.assigned?.(outbox.next - 1, ev, payload, enc, () => holdLast(outbox, c.wake), outbox.q[before]!.n);
      return p;
    }) as Outbox['push'];
    const welcome = s.welcome;
    s.welcome = (w, now) => {
      const lost = welcome(w, now);
      if (lost !== false) tap.welcomed?.(w.sid, w.key, w.resumed);
      return lost;
    };
    // The hello fields only a shared session sends (protocol.md §4): `tabs`, so that the server
    // keeps its last acknowledged messages a while, for a next leader that resumes behind an ack
    // this one wrote before it crashed; and, until a seeded client's first resumed welcome settled
    // its numbers, `fence`, so that the crashed leader's late frames are not taken. The hello is
    // one JSON object: the fields go in before its closing brace.
    const hello = s.hello;
    const tabs = (h: string) => `${h.slice(0, -1)},"tabs":1${seeded() ? ',"fence":1' : ''}}`;
    s.hello = (race) => {
      const h = hello(race);
      return typeof h === 'string' ? tabs(h) : h.then(tabs);
    };
    const deliver = host.deliver;
    host.deliver = (n, ev, data) => (tap.delivered?.(n, ev, data), deliver(n, ev, data));
    Object.defineProperty(c, 'bye', { get: () => (tap.keepSession?.() ? 1001 : 1000) });
  };
