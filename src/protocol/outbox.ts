import { DEV } from '../dev';
import { encodeFrame, wrapFrames } from './encode';
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
  /** Not to be written yet (`Outbox.hold`); every later entry waits behind it, to keep the order. */
  held?: boolean;
  /** The sender's promise and what settles it; absent for fire-and-forget sends (broadcast). */
  p?: Promise<void>;
  ok?: () => void;
  no?: (err: WirefallError) => void;
}

const noop = () => {};

/** A rejected promise that does not count as unhandled when the caller ignores it. */
export function rejected(err: WirefallError): Promise<never> {
  const p = Promise.reject(err);
  p.catch(noop);
  return p;
}

// Marked handled only now: an ignored rejection must not crash a Node process, and attaching a
// no-op catch to every message would cost a promise each.
const reject = (e: OutboxEntry, err: WirefallError) => e.no && (e.p!.catch(noop), e.no(err));

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

export class Outbox {
  #q: OutboxEntry[] = [];
  /** Index of the first entry not yet written on the current transport. */
  #cursor = 0;
  #next = 1;
  #bytes = 0;
  /** Highest sequence number the peer acknowledged. */
  acked = 0;
  /** When the ack last moved forward, ms. */
  ackedAt = 0;
  /** While restored and unsettled (see `continueAfter`): how many entries at the front were restored. */
  #seeded: number | undefined;
  /**
   * The highest number that may be written (a server whose store makes sessions durable writes a
   * message only once it is committed there, docs/scaling.md §5). Unbounded by default.
   */
  gate = Infinity;
  #limits: OutboxLimits;

  constructor(limits: OutboxLimits) {
    this.#limits = limits;
  }

  get size(): number {
    return this.#q.length;
  }
  get bytes(): number {
    return this.#bytes;
  }
  get hasUnsent(): boolean {
    return this.#ready(this.#q[this.#cursor]);
  }

  /** `e` may be written now: not held, and within the gate. */
  #ready(e: OutboxEntry | undefined): e is OutboxEntry {
    return !!e && !e.held && e.s <= this.gate;
  }

  /**
   * Queues a message; the promise settles when it is acknowledged or can no longer be delivered.
   * With `settle` false nothing is allocated for the caller and nothing is returned.
   */
  push(ev: string, payload: string, settle?: true, bytes?: number, e?: string): Promise<void>;
  push(ev: string, payload: string, settle: false, bytes?: number, e?: string): Promise<void> | undefined;
  /** `bytes`: the payload's UTF-8 length when the caller has measured it already; `e`: its encoding. */
  push(ev: string, payload: string, settle = true, bytes = utf8Length(payload), e?: string): Promise<void> | undefined {
    const q = this.#q;
    if (q.length >= this.#limits.maxMessages || this.#bytes + bytes > this.#limits.maxBytes) {
      return rejected(new WirefallError('WF_OUTBOX_FULL', DEV ? `outbox full (${q.length} messages, ${this.#bytes} bytes)` : ''));
    }
    let ok: (() => void) | undefined;
    let no: ((err: WirefallError) => void) | undefined;
    const p = settle ? new Promise<void>((res, rej) => ((ok = res), (no = rej))) : undefined;
    // Every field in the literal, in one order: one hidden class for all entries, none added later
    // (adding the promise afterwards moved each entry of a burst to another shape).
    q.push({ s: this.#next++, ev, payload, e, n: bytes, at: undefined, p, ok, no });
    this.#bytes += bytes;
    return p;
  }

  /**
   * Holds the entry pushed last: it is not written, nor is any later one, until the returned
   * function releases it (then `wake` is called, to write). For src/share: a leader writes another
   * tab's send only once that tab confirmed its number (docs/sharing.md).
   */
  hold(wake: () => void): () => void {
    const e = this.#q[this.#q.length - 1]!;
    e.held = true;
    return () => {
      if (e.held) (e.held = false), wake();
    };
  }

  /** Unsent messages, for deciding to flush before the end of the tick. */
  get unsent(): number {
    return this.#q.length - this.#cursor;
  }

  /**
   * Appends to `out` the encoded frames of unsent entries, up to `maxBytes` (at least one), marked
   * as sent; a held entry stops it. `ack` rides in the first one (`pa`, §4). With `run` (the peer
   * reads them, §1.4), consecutive plain-JSON messages of one type go as one `run` frame: the
   * peer parses one frame and no per-message envelope (bench: 0.28 against 0.50 µs a message).
   */
  takeUnsent(maxBytes: number, now: number, out: string[] = [], ack?: number, run?: boolean): string[] {
    // The open group: its first entry, the ack riding in it, and its payloads. A group of one is
    // a msg frame; only a run of plain JSON, one type, grows past one.
    let first: OutboxEntry | undefined;
    let a: number | undefined;
    let ds: string[] = [];
    const close = () =>
      first &&
      out.push(
        ds[1]
          ? // The msg frame's template up to its data, as a run: `{"t":"run",("a":…,)"s":…,"ev":…,"d":[`.
            wrapFrames(`{"t":"run"${encodeFrame.msg(first.s, first.ev, '[', undefined, a).slice(10, -1)}`, ds, ']}')
          : encodeFrame.msg(first.s, first.ev, first.payload, first.e, a),
      );
    // `total` is 0 only before the first (a payload is at least one byte of JSON).
    for (let total = 0, e; this.#ready((e = this.#q[this.#cursor])) && !(total && total + e.n > maxBytes); this.#cursor++) {
      if (!(run && first && !first.e && !e.e && first.ev === e.ev)) close(), (first = e), (a = total ? undefined : ack), (ds = []);
      ds.push(e.payload);
      total += e.n;
      e.at = now;
    }
    close();
    return out;
  }

  /** Applies a cumulative ack; returns false when it acknowledges something never sent. */
  ack(a: number, now: number): boolean {
    if (a <= this.acked) return true;
    if (a >= this.#next) return false;
    const q = this.#q;
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
    this.#bytes -= e.n;
    e.ok?.();
  };

  /** A new transport took over: everything unacknowledged is written again, in order. */
  rewind(): void {
    this.#cursor = 0;
  }

  /** When the oldest message written but not acknowledged was written, or undefined. */
  oldestInFlight(): number | undefined {
    return this.#q[0]?.at;
  }

  /** Replaces the content: `q` from the front, numbering continuing at `next`; all of it to be written. */
  #reset(q: OutboxEntry[], next: number, acked: number): OutboxEntry[] {
    const old = this.#q;
    this.#q = q;
    this.#bytes = 0;
    for (const e of q) this.#bytes += e.n;
    this.#cursor = 0;
    this.#next = next;
    this.acked = acked;
    // A new numbering: nothing restored from an old one remains to be settled.
    this.#seeded = undefined;
    return old;
  }

  /**
   * The peer lost the session. Entries it may have seen are rejected (resending could double
   * them); entries never written are renumbered for the new session and kept.
   */
  restart(err: WirefallError): OutboxEntry[] {
    const kept = this.#q.filter((e) => e.at === undefined);
    const lost = this.#reset(kept, 1, 0).filter((e) => e.at !== undefined);
    for (const e of kept) e.s = this.#next++;
    for (const e of lost) reject(e, err);
    return lost;
  }

  /**
   * Starts from another context's unacknowledged messages (a tab hand-over, src/share), with the
   * numbers that context gave them (ascending, all above `acked`; a number the old writer used
   * but nobody recorded leaves a hole). They count as written, since the peer may have seen them
   * (a lost session must report them, not send them again under new numbers). Until the first
   * resumed welcome settles the numbering (`continueAfter`), the outbox is `seeded`. Returns their
   * promises, in order.
   */
  restore(acked: number, entries: { s: number; ev: string; payload: string; enc?: string }[], now: number): Promise<void>[] {
    this.acked = acked;
    const q = this.#q;
    const promises = entries.map((x) => {
      this.#next = x.s;
      const p = this.push(x.ev, x.payload, true, undefined, x.enc);
      const e = q[q.length - 1];
      if (e && e.s === x.s) e.at = now;
      return p;
    });
    this.#next = entries.reduce((m, x) => Math.max(m, x.s), acked) + 1;
    this.#seeded = q.length;
    return promises;
  }

  /**
   * The first resumed welcome of a restored outbox. The old writer may have written numbers no
   * one recorded, so the peer's ack, not the restored numbers, says where numbering continues:
   * restored entries numbered up to `ack` were received (the peer de-duplicates by number and
   * receives a prefix), and every other entry (restored ones above `ack`, including those after
   * a hole, and all pushed since the restore) is numbered `ack + 1` onwards in its order. That
   * is safe because this outbox wrote nothing before this welcome, so the peer has none of these
   * numbers from us. Returns the entries whose number changed, or false when the ack goes back
   * behind what was already acknowledged (a broken peer). On an outbox that was not restored it
   * is `ack`: there an ack beyond what was written stays a protocol error.
   */
  continueAfter(ack: number, now: number): { from: number; to: number }[] | false {
    const restored = this.#seeded;
    if (restored === undefined) return this.ack(ack, now) && [];
    if (ack < this.acked) return false;
    const q = this.#q;
    let n = 0;
    while (n < restored && q[n]!.s <= ack) n++;
    const done = q.splice(0, n);
    const moved: { from: number; to: number }[] = [];
    if (ack > this.acked) this.ackedAt = now;
    this.#reset(q, ack + 1, ack);
    for (const e of q) {
      const to = this.#next++;
      if (e.s !== to) moved.push({ from: e.s, to }), (e.s = to);
    }
    // Settled without #settled: #reset counted the bytes of what is left, so these are not in it.
    for (const e of done) e.ok?.();
    return moved;
  }

  /** Restored from another context, and no resumed welcome has said where numbering continues yet. */
  get seeded(): boolean {
    return this.#seeded !== undefined;
  }

  /** The number the next pushed message gets (the last pushed one has `next - 1`). */
  get next(): number {
    return this.#next;
  }

  /** @internal The entries, oldest first: the server reads them as data (src/server/outbox-state.ts). */
  get entries(): readonly OutboxEntry[] {
    return this.#q;
  }

  /**
   * @internal Replaces the content of an empty outbox (a session taken over from another node,
   * src/server/outbox-state.ts): numbering continues at `next`, and all of it is resent.
   */
  load(next: number, acked: number, entries: OutboxEntry[]): void {
    this.#reset(entries, next, acked);
  }

  /** Rejects everything (the client or session closed for good). */
  rejectAll(err: WirefallError): void {
    for (const e of this.#reset([], this.#next, this.acked)) reject(e, err);
  }
}
