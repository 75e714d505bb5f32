import { DEV } from '../dev';
import { encodeFrame } from '../protocol/encode';
import { decodeData, encodeData, type Encoded } from '../protocol/data';
import { WirefallError } from '../protocol/errors';
import { PROTOCOL_VERSION, type WelcomeFrame } from '../protocol/frames';
import { Inbox } from '../protocol/inbox';
import { Outbox, rejected } from '../protocol/outbox';
import { utf8Length } from '../protocol/limits';
import type { UndeliveredMessage } from './client-types';
import { credentials, staleCredentials } from './auth';
import type { ClientOptions, ResolvedTimings } from './options';
import type { SessionTap } from './session-tap';

/**
 * The client's side of a session, which outlives every link: what is queued or unacknowledged
 * (outbox), what arrived (inbox), the session's id and limits, and backpressure.
 */
export class ClientSession {
  readonly outbox: Outbox;
  readonly inbox = new Inbox();
  #id: { sid: string; key: string } | undefined;
  #max = 1024 * 1024;
  #t: ResolvedTimings;
  #auth: ClientOptions['auth'];
  #high = false;
  #authRetried = false;
  #waiters: (() => void)[] = [];
  #water: (high: boolean, bytes: number) => void;
  #tap: SessionTap | undefined;
  #wake: () => void;

  /** `wake`: a held send was released (write what can be written). */
  constructor(t: ResolvedTimings, auth: ClientOptions['auth'], water: (high: boolean, bytes: number) => void, tap?: SessionTap, wake: () => void = () => {}) {
    this.#t = t;
    this.#auth = auth;
    this.#water = water;
    this.outbox = new Outbox(t);
    this.#tap = tap;
    this.#wake = wake;
    const seed = tap?.seed;
    if (seed) {
      // A hand-over: resume the session another context began, with its numbers (src/share).
      this.#id = { sid: seed.sid, key: seed.key };
      this.inbox.received = seed.received;
      this.inbox.resumed();
      tap.seeded?.(this.outbox.restore(seed.acked, seed.entries, 0));
    }
  }

  /** A welcome was received once: hellos resume this session. */
  get exists(): boolean {
    return !!this.#id;
  }

  /**
   * Queues a message (resolves on the server's ack), or rejects at once saying why it cannot.
   * `encoded`: the payload is encoded already, and `type` may be one of the protocol's own (`$…`).
   */
  push(type: string, data: unknown, closed: boolean, encoded?: Encoded): Promise<void> {
    let problem: WirefallError | undefined;
    if (!encoded && typeof type === 'string' && type[0] === '$') problem = new WirefallError('WF_INVALID', DEV ? `"${type}": types starting with $ are reserved` : '');
    try {
      encoded ??= encodeData(data, type);
    } catch (cause) {
      problem = cause instanceof WirefallError ? cause : new WirefallError('WF_INVALID', DEV ? `"${type}": data is not JSON` : '', { cause });
    }
    const bytes = encoded ? utf8Length(encoded.payload) : 0;
    problem ??=
      closed ? new WirefallError('WF_CLOSED', DEV ? 'client closed' : '')
      : typeof type !== 'string' || !type ? new WirefallError('WF_INVALID', DEV ? 'bad type' : '')
      : bytes > this.#max ? new WirefallError('WF_TOO_LARGE', DEV ? `"${type}": ${bytes} bytes > ${this.#max}` : '')
      : undefined;
    if (problem) return rejected(problem);
    const before = this.outbox.size;
    const p = this.outbox.push(type, encoded!.payload, true, bytes, encoded!.e);
    // The new entry is the last one pushed (a full outbox adds none).
    if (this.#tap?.assigned && this.outbox.size > before) this.#tap.assigned(this.outbox.next - 1, type, encoded!.payload, encoded!.e, () => this.outbox.hold(this.#wake));
    this.checkWater();
    return p;
  }

  /**
   * The hello of a race: `race` is one token for all its attempts, so they open (or resume) one
   * session. A promise when `auth` returned one; the session's position is read once it resolved.
   */
  hello(race: string): string | Promise<string> {
    return credentials(this.#auth, (auth) => {
      const s = this.#id;
      return encodeFrame.hello({ v: PROTOCOL_VERSION, ...(s && { sid: s.sid, key: s.key, ack: this.inbox.received, fence: this.outbox.seeded ? 1 : undefined }), auth, race, bin: 1, pa: 1 });
    });
  }

  /** A 401 refusal: true (once per verified connection) when fresh credentials are worth a try. */
  retryAuth(error: WirefallError | undefined): boolean {
    if (this.#authRetried || !staleCredentials(this.#auth, error)) return false;
    return (this.#authRetried = true);
  }

  /**
   * A verified link's welcome: resumed, or a new session. Returns false when it acks messages
   * never sent (a protocol error); when the server lost our session, what may not have arrived.
   */
  welcome(w: WelcomeFrame, now: number): UndeliveredMessage[] | false | undefined {
    let lost: UndeliveredMessage[] | undefined;
    this.#max = w.max;
    this.#authRetried = false;
    if (w.resumed) {
      // A seeded session's numbers are settled by this welcome's ack (Outbox.continueAfter): the
      // context that wrote before us may have written a number no one recorded. Unseeded, an ack
      // beyond what we wrote stays a protocol error.
      const seeded = this.outbox.seeded;
      const moved = this.outbox.continueAfter(w.ack, now);
      if (!moved) return false;
      if (seeded) this.#tap?.renumbered?.(moved, w.ack);
      this.inbox.resumed();
    } else {
      this.inbox.reset();
      if (this.#id) {
        const gone = this.outbox.restart(new WirefallError('WF_SESSION_LOST', DEV ? 'session lost' : ''));
        // Calls ($call) are the protocol's: their requests reject with WF_SESSION_LOST instead.
        lost = gone.filter((e) => e.ev[0] !== '$').map((e) => ({ type: e.ev, data: decodeData(JSON.parse(e.payload), e.e) }));
      }
    }
    this.#id = w;
    this.#tap?.welcomed?.(w.sid, w.key, w.resumed);
    this.outbox.rewind();
    return lost;
  }

  checkWater(): void {
    const { bytes, size } = this.outbox;
    // High at the byte mark or at half the message bound (small messages fill the count first).
    const load = Math.max(bytes / this.#t.highWaterBytes, (2 * size) / this.#t.maxMessages);
    const high = load >= 1 || (this.#high && load >= 0.5);
    if (high === this.#high) return;
    this.#high = high;
    this.#water(high, bytes);
    if (!high) this.#release();
  }

  whenWritable(): Promise<void> {
    return new Promise((resolve) => (this.#high ? this.#waiters.push(resolve) : resolve()));
  }

  /** Nothing will be delivered any more: every unacknowledged send rejects with `err`. */
  end(err: WirefallError): void {
    this.outbox.rejectAll(err);
    this.#release();
  }

  #release(): void {
    for (const r of this.#waiters.splice(0)) r();
  }
}
