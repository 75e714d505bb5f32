import { DEV } from '../dev';
import { encodeMsg, wrapFrames } from './encode';
import { utf8Length } from './limits';
import { WirefallError } from './errors';

/**
 * Messages one side has sent and the other has not acknowledged yet, in send order. The same
 * class is the client's outbox and the server's per-session replay buffer: what is in it is
 * resent after a resume and settled (resolved) when a cumulative ack covers it.
 */
export interface OutboxEntry {
  s: number;
  ev: string;
  /** The JSON of the payload, encoded once when the message was queued. */
  payload: string;
  /** The payload's encoding when it is not plain JSON (`b64`: bytes inside). */
  e?: string;
  /** The payload's UTF-8 bytes. */
  n: number;
  /** When it was last written, ms; undefined while unsent (once written, the peer may have seen it). */
  at?: number;
  /** The sender's promise and what settles it; absent for fire-and-forget sends (broadcast). */
  p?: Promise<void>;
  ok?: () => void;
  no?: (err: WirefallError) => void;
}

const noop = () => {};

/** The type of a message that stands in for one the peer would refuse (src/core/client-session.ts): counted, then dropped. */
export const SKIP = '$skip';

/** A rejected promise that does not count as unhandled when the caller ignores it. */
export function rejected(err: WirefallError): Promise<never> {
  const p = Promise.reject(err);
  p.catch(noop);
  return p;
}

// Marked handled only now: an ignored rejection must not crash a Node process, and attaching a
// no-op catch to every message would cost a promise each.
export const reject = (e: OutboxEntry, err: WirefallError) => e.no && (e.p!.catch(noop), e.no(err));

/** An outbox's content as plain data (`outboxState`, src/server): `[seq, type, payload JSON]` per message. */
export interface OutboxState {
  next: number;
  acked: number;
  /** Number, type, payload, and the payload's encoding when it is not plain JSON. */
  entries: [number, string, string, string?][];
}

export interface OutboxLimits {
  /** Most messages held (queued + unacknowledged). */
  maxMessages: number;
  /** Most payload bytes held. */
  maxBytes: number;
}

/**
 * The client's core carries this class, so it has only what the client calls; what only the
 * server (src/server/outbox-state.ts, retaining-outbox.ts) and wirefall/share (src/share/hold.ts,
 * seeding.ts) need is theirs, working on the public `q`, `next`, `gate` and `load`.
 */
export class Outbox {
  /** @internal The entries, oldest first (src/server reads them as data; src/share seeds them). */
  q: OutboxEntry[] = [];
  /** Index of the first entry not yet written on the current transport. */
  #cursor = 0;
  /** The number the next pushed message gets (the last pushed one has `next - 1`). */
  next = 1;
  /** The payload bytes held. */
  bytes = 0;
  /** Highest sequence number the peer acknowledged. */
  acked = 0;
  /** When the ack last moved forward, ms. */
  ackedAt = 0;
  /** The open group's bytes (`push`). */
  #gb = 0;
  /**
   * Most payload bytes of one group of sends sharing a promise (`push`), well within a write; 0
   * for a promise per message (a server session gated by a durable store, src/share's outboxes).
   */
  group = 1 << 14;
  /**
   * The highest number that may be written (a server whose store makes sessions durable writes a
   * message only once it is committed there, docs/scaling.md §5; wirefall/share holds a tab's send
   * until that tab confirmed its number, src/share/hold.ts). Unbounded by default.
   */
  gate = Infinity;
  #limits: OutboxLimits;

  constructor(limits: OutboxLimits) {
    this.#limits = limits;
  }

  get hasUnsent(): boolean {
    return this.#ready(this.q[this.#cursor]);
  }

  /** `e` may be written now: within the gate. */
  #ready(e: OutboxEntry | undefined): e is OutboxEntry {
    return !!e && e.s <= this.gate;
  }

  /**
   * Queues a message; the promise settles when it is acknowledged or can no longer be delivered.
   * With `settle` false nothing is allocated for the caller and nothing is returned.
   */
  push(ev: string, payload: string, settle?: true, bytes?: number, e?: string): Promise<void>;
  push(ev: string, payload: string, settle: false, bytes?: number, e?: string): Promise<void> | undefined;
  /** `bytes`: the payload's UTF-8 length when the caller has measured it already; `e`: its encoding. */
  push(ev: string, payload: string, settle = true, bytes = utf8Length(payload), e?: string): Promise<void> | undefined {
    const q = this.q;
    if (q.length >= this.#limits.maxMessages || this.bytes + bytes > this.#limits.maxBytes) {
      return rejected(new WirefallError('WF_OUTBOX_FULL', DEV ? `outbox full (${q.length} messages, ${this.bytes} bytes)` : ''));
    }
    const last = q[q.length - 1];
    let ok: (() => void) | undefined;
    let no: ((err: WirefallError) => void) | undefined;
    let p: Promise<void> | undefined;
    // The sends since the last write share one promise (a group), settled with its last message:
    // only that entry holds `ok`/`no`, the others hold `p` alone, which marks them as members.
    // A promise and two settlers per message, alive until the ack, were most of what the GC copied
    // in a burst (bench/cpu.mjs, docs/benchmarks.md). A group closes once written (even in part:
    // one over a write's budget) or at `group` bytes; `takeUnsent` writes it whole, and the peer
    // acks whole transport messages, so it settles when each of its messages would have.
    if (settle && last?.ok && last.at === undefined && q[this.#cursor - 1]?.p !== last.p && (this.#gb += bytes) <= this.group) {
      (p = last.p), (ok = last.ok), (no = last.no), (last.ok = last.no = undefined);
    } else if (settle) {
      p = new Promise<void>((res, rej) => ((ok = res), (no = rej)));
      this.#gb = bytes;
    }
    // Every field in the literal, in one order: one hidden class for all entries, none added later
    // (adding the promise afterwards moved each entry of a burst to another shape).
    q.push({ s: this.next++, ev, payload, e, n: bytes, at: undefined, p, ok, no });
    this.bytes += bytes;
    return p;
  }

  /** Unsent messages, for deciding to flush before the end of the tick. */
  get unsent(): number {
    return this.q.length - this.#cursor;
  }

  /**
   * Appends to `out` the encoded frames of unsent entries, up to `maxBytes` (at least one), marked
   * as sent; a held entry stops it. `ack` rides in the first one (`pa`, §4). With `run` (the peer
   * reads them, §1.4), consecutive plain-JSON messages of one type go as one `run` frame: the
   * peer parses one frame and no per-message envelope (bench: 0.28 against 0.50 µs a message).
   */
  takeUnsent(maxBytes: number, now: number, out: string[] = [], ack?: number, run?: boolean): string[] {
    // Up to `end`: the last whole group within `maxBytes` (`total` is 0 only before the first, a
    // payload being at least one byte), before the gate. A first group over the budget goes in
    // parts; one that the gate cuts (a tab's held send, src/share/hold.ts) waits whole.
    const q = this.q;
    let end = this.#cursor, i = end;
    for (let total = 0, e; this.#ready((e = q[i])) && !(total && total + e.n > maxBytes); ) {
      total += e.n;
      if (e.p !== q[++i]?.p || !e.p) end = i;
    }
    if (end === this.#cursor && this.#ready(q[i])) end = i;
    // One frame per entry, or per run of entries (`j` past its last); the ack rides in the first.
    // No closure and no array of payloads for a single message: this runs for every write of a
    // round trip, and what it allocated there was the largest part of a round trip's garbage on
    // each side (bench/rtt-trace.mjs).
    for (let k = this.#cursor, j, f: OutboxEntry; k < end; ack = undefined) {
      (f = q[(j = k++)]!).at = now;
      while (k < end && run && !f.e && !q[k]!.e && f.ev === q[k]!.ev) q[k++]!.at = now;
      out.push(
        k > j + 1
          ? // The msg frame's template up to its data, as a run: `{"t":"run",("a":…,)"s":…,"ev":…,"d":[`.
            wrapFrames(`{"t":"run"${encodeMsg(f.s, f.ev, '[', undefined, ack).slice(10, -1)}`, q.slice(j, k).map((x) => x.payload), ']}')
          : encodeMsg(f.s, f.ev, f.payload, f.e, ack),
      );
    }
    this.#cursor = end;
    return out;
  }

  /** Applies a cumulative ack; returns false when it acknowledges something never sent. */
  ack(a: number, now: number): boolean {
    if (a <= this.acked) return true;
    if (a >= this.next) return false;
    const q = this.q;
    let n = 0;
    while (n < q.length && q[n]!.s <= a) n++;
    this.#cursor = Math.max(0, this.#cursor - n);
    // One message acked (a conversation) is a shift, with no array allocated for it; many (a burst)
    // one splice: a shift each would move the whole array each time.
    if (n === 1) this.#settled(q.shift()!);
    else q.splice(0, n).forEach(this.#settled);
    this.acked = a;
    this.ackedAt = now;
    return true;
  }

  #settled = (e: OutboxEntry): void => {
    this.bytes -= e.n;
    e.ok?.();
  };

  /** A new transport took over: everything unacknowledged is written again, in order. */
  rewind(): void {
    this.#cursor = 0;
  }

  /** When the oldest message written but not acknowledged was written, or undefined. */
  oldestInFlight(): number | undefined {
    return this.q[0]?.at;
  }

  /**
   * Replaces the content: `q` from the front, numbering continuing at `next`, all of it to be
   * written; returns the old content. The core's own resets, and the server's and wirefall/share's
   * (a session taken over from another node, src/server/outbox-state.ts; a tab hand-over).
   */
  load(next: number, acked: number, q: OutboxEntry[]): OutboxEntry[] {
    const old = this.q;
    this.q = q;
    this.bytes = 0;
    for (const e of q) this.bytes += e.n;
    this.#cursor = 0;
    this.next = next;
    this.acked = acked;
    return old;
  }

  /**
   * The peer lost the session. Entries it may have seen are rejected (resending could double
   * them); entries never written are renumbered for the new session and kept.
   */
  restart(err: WirefallError): OutboxEntry[] {
    // Written entries are a prefix. A group written in part (one over a write's budget) is lost
    // whole: its one promise cannot both reject for the head and resolve for the tail.
    const q = this.q;
    let k = 0;
    while (k < q.length && (q[k]!.at !== undefined || (k && q[k]!.p && q[k]!.p === q[k - 1]!.p))) k++;
    const kept = q.slice(k);
    const lost = this.load(1, 0, kept).slice(0, k);
    for (const e of kept) e.s = this.next++;
    for (const e of lost) reject(e, err);
    return lost;
  }

  /** Rejects everything (the client or session closed for good). */
  rejectAll(err: WirefallError): void {
    for (const e of this.load(this.next, this.acked, [])) reject(e, err);
  }
}
