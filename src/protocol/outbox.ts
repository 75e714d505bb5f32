import { encodeFrame } from './encode';
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
  bytes: number;
  /** Written to some transport at least once (so the peer may have seen it). */
  sent: boolean;
  /** When it was last written, ms; 0 while unsent. */
  sentAt: number;
  /** Settles the sender's promise; absent for fire-and-forget sends (broadcast). */
  settle?: { promise: Promise<void>; resolve: () => void; reject: (err: WirefallError) => void };
}

/** A rejected promise that does not count as unhandled when the caller ignores it. */
export function rejected(err: WirefallError): Promise<never> {
  const p = Promise.reject(err);
  p.catch(() => {});
  return p;
}

function reject(e: OutboxEntry, err: WirefallError): void {
  if (!e.settle) return;
  // Marked handled only now: an ignored rejection must not crash a Node process, and
  // attaching a no-op catch to every message would cost a promise each.
  e.settle.promise.catch(() => {});
  e.settle.reject(err);
}

/** An outbox's content as plain data (`Outbox.state`): `[seq, type, payload JSON]` per message. */
export interface OutboxState {
  next: number;
  acked: number;
  entries: [number, string, string][];
}

export interface OutboxLimits {
  /** Most messages held (queued + unacknowledged). */
  maxMessages: number;
  /** Most payload bytes held. */
  maxBytes: number;
}

/** UTF-8 length of a string without allocating (TextEncoder would copy the whole payload). */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

export class Outbox {
  #entries: OutboxEntry[] = [];
  /** Index of the first entry not yet written on the current transport. */
  #cursor = 0;
  #next = 1;
  #bytes = 0;
  /** Highest sequence number the peer acknowledged. */
  acked = 0;
  /** When the ack last moved forward, ms. */
  ackedAt = 0;
  readonly limits: OutboxLimits;

  constructor(limits: OutboxLimits) {
    this.limits = limits;
  }

  get size(): number {
    return this.#entries.length;
  }
  get bytes(): number {
    return this.#bytes;
  }
  get hasUnsent(): boolean {
    return this.#cursor < this.#entries.length;
  }

  /**
   * Queues a message; the promise settles when it is acknowledged or can no longer be delivered.
   * With `settle` false nothing is allocated for the caller and nothing is returned.
   */
  push(ev: string, payload: string, settle?: true): Promise<void>;
  push(ev: string, payload: string, settle: false): Promise<void> | undefined;
  push(ev: string, payload: string, settle = true): Promise<void> | undefined {
    const bytes = utf8Length(payload);
    if (this.#entries.length >= this.limits.maxMessages || this.#bytes + bytes > this.limits.maxBytes) {
      return rejected(new WirefallError('WF_OUTBOX_FULL', `outbox full (${this.#entries.length} messages, ${this.#bytes} bytes)`));
    }
    const e: OutboxEntry = { s: this.#next++, ev, payload, bytes, sent: false, sentAt: 0 };
    this.#entries.push(e);
    this.#bytes += bytes;
    if (!settle) return undefined;
    let resolve!: () => void;
    let rejecter!: (err: WirefallError) => void;
    const promise = new Promise<void>((res, rej) => ((resolve = res), (rejecter = rej)));
    e.settle = { promise, resolve, reject: rejecter };
    return promise;
  }

  /** Unsent messages, for deciding to flush before the end of the tick. */
  get unsent(): number {
    return this.#entries.length - this.#cursor;
  }

  /** Encoded msg frames of unsent entries, up to `maxBytes` (at least one), marked as sent. */
  takeUnsent(maxBytes: number, now: number): string[] {
    const out: string[] = [];
    let total = 0;
    while (this.#cursor < this.#entries.length) {
      const e = this.#entries[this.#cursor]!;
      if (out.length > 0 && total + e.bytes > maxBytes) break;
      out.push(encodeFrame.msg(e.s, e.ev, e.payload));
      total += e.bytes;
      e.sent = true;
      e.sentAt = now;
      this.#cursor++;
    }
    return out;
  }

  /** Applies a cumulative ack; returns false when it acknowledges something never sent. */
  ack(a: number, now: number): boolean {
    if (a <= this.acked) return true;
    if (a >= this.#next) return false;
    let n = 0;
    while (n < this.#entries.length && this.#entries[n]!.s <= a) n++;
    const done = this.#entries.splice(0, n);
    this.#cursor = Math.max(0, this.#cursor - n);
    for (const e of done) {
      this.#bytes -= e.bytes;
      e.settle?.resolve();
    }
    this.acked = a;
    this.ackedAt = now;
    return true;
  }

  /** A new transport took over: everything unacknowledged is written again, in order. */
  rewind(): void {
    this.#cursor = 0;
  }

  /** When the oldest message written but not acknowledged was written, or undefined. */
  oldestInFlight(): number | undefined {
    const e = this.#entries[0];
    return e && e.sent ? e.sentAt : undefined;
  }

  /**
   * The peer lost the session. Entries it may have seen are rejected (resending could double
   * them); entries never written are renumbered for the new session and kept.
   */
  restart(err: WirefallError): OutboxEntry[] {
    const lost = this.#entries.filter((e) => e.sent);
    const kept = this.#entries.filter((e) => !e.sent);
    this.#entries = kept;
    this.#bytes = kept.reduce((n, e) => n + e.bytes, 0);
    this.#next = 1;
    for (const e of kept) e.s = this.#next++;
    this.#cursor = 0;
    this.acked = 0;
    for (const e of lost) reject(e, err);
    return lost;
  }

  /**
   * What a peer still needs, for another process to carry on (a server session moving to another
   * node): the unacknowledged messages with their numbers, the next number, the last ack.
   */
  state(): OutboxState {
    return { next: this.#next, acked: this.acked, entries: this.#entries.map((e) => [e.s, e.ev, e.payload]) };
  }

  /** Takes over `state` (from `state()` elsewhere) in a new, empty outbox; all of it is resent. */
  adopt(state: OutboxState): void {
    this.#next = state.next;
    this.acked = state.acked;
    this.#entries = state.entries.map(([s, ev, payload]) => ({ s, ev, payload, bytes: utf8Length(payload), sent: true, sentAt: 0 }));
    this.#bytes = this.#entries.reduce((n, e) => n + e.bytes, 0);
    this.#cursor = 0;
  }

  /** Rejects everything (the client or session closed for good). */
  rejectAll(err: WirefallError): void {
    const all = this.#entries;
    this.#entries = [];
    this.#bytes = 0;
    this.#cursor = 0;
    for (const e of all) reject(e, err);
  }
}
