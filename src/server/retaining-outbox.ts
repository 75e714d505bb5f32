import { Outbox, type OutboxEntry } from '../protocol/outbox';

/** How many acknowledged messages a shared session keeps, at most, and for how long (ms). */
export const KEPT = { messages: 64, ms: 10_000 };

/**
 * A session's outbox that, for a session shared by browser tabs (its hello said `tabs`, §4),
 * keeps its last acknowledged messages a while: a leader tab that crashed after writing its ack
 * of a message, before its post of that message reached the other tabs, leaves the next leader
 * resuming behind that ack (docs/sharing.md). Those messages are then sent again (`reopen`)
 * instead of the session being lost. Bounded by count and by age; other sessions keep nothing.
 */
export class RetainingOutbox extends Outbox {
  /** Keep acknowledged messages (the session is shared by tabs). */
  retain = false;
  /**
   * True while the live link can take no more messages (session-links.ts `full`): they wait here,
   * where the replay bound holds them, not in a socket's buffer. Control frames still go.
   */
  full: () => boolean = () => false;

  override get hasUnsent(): boolean {
    return super.hasUnsent && !this.full();
  }

  override takeUnsent(maxBytes: number, now: number, out: string[] = [], ack?: number, run?: boolean): string[] {
    return this.full() ? out : super.takeUnsent(maxBytes, now, out, ack, run);
  }
  #kept: OutboxEntry[] = [];
  #keptAt = 0;

  override ack(a: number, now: number): boolean {
    if (this.retain && a > this.acked && a < this.next) {
      for (const e of this.q) {
        if (e.s > a) break;
        this.#kept.push(e);
      }
      if (this.#kept.length > KEPT.messages) this.#kept.splice(0, this.#kept.length - KEPT.messages);
      this.#keptAt = now;
    }
    return super.ack(a, now);
  }

  /**
   * A hello's `ack` (the last message its client received in order), as the session welcomes it
   * (`Connection.offer`): false when `ack` acknowledges what was never sent, or when a new writer
   * (`hello.fence`) resumes behind what was acknowledged and the messages in between were not
   * kept. `hello.tabs`: the session is shared by tabs; `durable`: it has a durable record.
   */
  resume(ack: number | undefined, hello: { fence?: number; tabs?: number }, durable: boolean, now: number): boolean {
    // Not with a durable store: its record drops what was acknowledged, and a session put back
    // behind that would not survive its node (a gap on the next one); a new session is reported.
    if (hello.tabs === 1 && !durable) this.retain = true;
    // A new writer (`fence`: a tab taking a shared session over) behind what was acknowledged:
    // the leader tab before it crashed after its ack was written, before its tabs heard those
    // messages. A shared session kept them a while and sends them again; otherwise resuming would
    // leave a gap, and a new session reports the loss. Any other hello behind the ack is one
    // client's, built before it acked more on another of its connections (a race, a climb): it
    // has those messages, and resumes as ever.
    return ack === undefined || !((hello.fence === 1 && !this.reopen(ack, now)) || !this.ack(ack, now));
  }

  /**
   * A resume at `a`, behind what was acknowledged: puts the kept messages after `a` back in
   * front, to be sent again. False when they are not all kept (too many, too old, or none).
   */
  reopen(a: number, now: number): boolean {
    if (a >= this.acked) return true;
    const kept = this.#kept;
    const i = kept.findIndex((e) => e.s === a + 1);
    if (i < 0 || now - this.#keptAt > KEPT.ms || kept.at(-1)!.s !== this.acked) return false;
    this.load(this.next, a, [...kept.splice(i), ...this.q]);
    return true;
  }
}
