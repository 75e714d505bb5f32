import { DEV } from '../dev';
import { encodeHello } from '../protocol/encode';
import { decodeData, encodeData, type Encoded } from '../protocol/data';
import { WirefallError } from '../protocol/errors';
import { PROTOCOL_VERSION, type WelcomeFrame } from '../protocol/frames';
import { Inbox } from '../protocol/inbox';
import { Outbox, reject, rejected, SKIP } from '../protocol/outbox';
import { utf8Length } from '../protocol/limits';
import type { UndeliveredMessage } from './client-types';
import { credentials, staleCredentials } from './auth';
import type { ClientOptions, ResolvedTimings } from './options';

/** The client's side of a session (see `clientSession`). */
export interface ClientSession {
  readonly outbox: Outbox;
  readonly inbox: Inbox;
  /** The session's id, once a welcome gave it (or a hand-over's seed did, src/share): hellos resume it. */
  id?: { sid: string; key: string } | undefined;
  /**
   * Queues a message (resolves on the server's ack), or rejects at once saying why it cannot
   * (`WF_CLOSED` once `end` ran), then has it written (`wake`). `encoded`: the payload is encoded
   * already, and `type` may be one of the protocol's own (`$…`).
   */
  push(type: string, data: unknown, encoded?: Encoded): Promise<void>;
  /**
   * Writes what the outbox can write now (the client's live link, if any): at once when `urgent`
   * (a long burst leaves in slices), else at the end of the tick. wirefall/share calls it when a
   * held send was released.
   */
  wake(urgent?: boolean): void;
  /**
   * The hello of a race: `race` is one token for all its attempts, so they open (or resume) one
   * session. A promise when `auth` returned one; the session's position is read once it resolved.
   */
  hello(race: string): string | Promise<string>;
  /** A 401 refusal: true (once per verified connection) when fresh credentials are worth a try. */
  retryAuth(error: WirefallError | undefined): boolean;
  /**
   * A verified link's welcome: resumed, or a new session. Returns false when it acks messages
   * never sent or resumes another session (a protocol error); when the server lost our session, what may not have arrived.
   */
  welcome(w: WelcomeFrame, now: number): UndeliveredMessage[] | false | undefined;
  /** Acks or sends moved the outbox: tells `water` when it crossed the high-water mark (or fell below half). */
  checkWater(): void;
  whenWritable(): Promise<void>;
  /** Nothing will be delivered any more: every unacknowledged send rejects with `err`. */
  end(err: WirefallError): void;
}

/**
 * The client's side of a session, which outlives every link: what is queued or unacknowledged
 * (outbox), what arrived (inbox), the session's id and limits, and backpressure. A closure, not
 * a class: the client bundle pays for every `this.#field` (scripts/size.mjs).
 */
export function clientSession(t: ResolvedTimings, auth: ClientOptions['auth'], water: (high: boolean, bytes: number) => void): ClientSession {
  const outbox = new Outbox(t);
  const inbox = new Inbox();
  let max = 1024 * 1024;
  let high = false;
  let authRetried = false;
  let closed = false;
  const waiters: (() => void)[] = [];
  const release = () => waiters.splice(0).forEach((r) => r());
  // `wake` is the client's (it knows the live link): set once the session is made.
  const s = {
    outbox,
    inbox,
    push(type, data, encoded) {
      let bytes;
      // Every check throws, in this order (the data's own problems first), and rejects once.
      try {
        // A type that is not a string throws here (reading it), or in encodeData (its length).
        if (!encoded && type[0] === '$') throw new WirefallError('WF_INVALID', DEV ? `"${type}": types starting with $ are reserved` : '');
        encoded ??= encodeData(data, type);
        bytes = utf8Length(encoded.payload);
        if (closed) throw new WirefallError('WF_CLOSED', DEV ? 'client closed' : '');
        if (typeof type !== 'string' || !type) throw new WirefallError('WF_INVALID', DEV ? 'bad type' : '');
        if (bytes > max) throw new WirefallError('WF_TOO_LARGE', DEV ? `"${type}": ${bytes} bytes > ${max}` : '');
      } catch (cause) {
        return rejected(cause instanceof WirefallError ? cause : new WirefallError('WF_INVALID', DEV ? (typeof type === 'string' ? `"${type}": data is not JSON` : 'bad type') : '', { cause }));
      }
      const p = outbox.push(type, encoded.payload, true, bytes, encoded.e);
      s.checkWater();
      s.wake?.(outbox.unsent >= 256);
      return p;
    },
    hello: (race) =>
      credentials(auth, (auth) => encodeHello({ v: PROTOCOL_VERSION, ...(s.id && { sid: s.id.sid, key: s.id.key, ack: inbox.received }), auth, race, bin: 1, pa: 1 })),
    retryAuth: (error) => !authRetried && staleCredentials(auth, error) && (authRetried = true),
    welcome(w, now) {
      let lost: UndeliveredMessage[] | undefined;
      authRetried = false;
      if (w.resumed) {
        // An ack beyond what we wrote is a protocol error. (A seeded session's numbers are settled
        // by this ack instead: wirefall/share's seedOutbox wraps `ack`, src/share/seeding.ts.) So
        // is another session than the one we asked to resume: taken as ours, its first messages
        // (numbers we had seen) were dropped as duplicates. (No id: a race's later attempt.)
        if (w.sid !== (s.id ?? w).sid || !outbox.ack(w.ack, now)) return false;
        inbox.resumed();
      } else {
        inbox.reset();
        if (s.id) {
          const gone = outbox.restart(new WirefallError('WF_SESSION_LOST', DEV ? 'session lost' : ''));
          // Calls ($call) are the protocol's: their requests reject with WF_SESSION_LOST instead.
          lost = gone.filter((e) => e.ev[0] !== '$').map((e) => ({ type: e.ev, data: decodeData(JSON.parse(e.payload), e.e) }));
        }
      }
      // Only now: a welcome refused above (a hostile one saying `max: 1`) left the app's sends
      // refused with WF_TOO_LARGE until the next welcome.
      max = w.max;
      s.id = w;
      // A new server may take less than the one a message was queued for (a rolling deploy lowered
      // `max`): sent as it is, it would be refused on every resume, for ever, holding back all behind
      // it. It goes as a `$skip` instead, under its number, so the server sees no gap (protocol.md
      // §4), and its send rejects; so does its group's, whose promise its group's last entry holds.
      // Its `n` stays: the ack subtracts it. `e` may stay: a number decodes as itself.
      // Not a promise: until a message is skipped, nothing is rejected, and no error is made for
      // each entry (a seeded outbox's entries have no promise).
      let p: unknown = 0;
      for (const e of outbox.q) {
        if (e.n > max) (p = e.p), (e.ev = SKIP), (e.payload = '0');
        if (e.p === p) reject(e, new WirefallError('WF_TOO_LARGE', DEV ? `over the server's ${max} bytes` : ''));
      }
      outbox.rewind();
      // The welcome's ack, or the lost session, may have emptied the outbox: no ack frame will
      // come to say so, and an app awaiting whenWritable() would wait for ever.
      s.checkWater();
      return lost;
    },
    checkWater() {
      const { bytes, q } = outbox;
      // High at the byte mark or at half the message bound (small messages fill the count first).
      const load = Math.max(bytes / t.highWaterBytes, (2 * q.length) / t.maxMessages);
      const now = load >= 1 || (high && load >= 0.5);
      if (now === high) return;
      high = now;
      water(high, bytes);
      if (!high) release();
    },
    whenWritable: () => new Promise((resolve) => (high ? waiters.push(resolve) : resolve())),
    end(err) {
      closed = true;
      outbox.rejectAll(err);
      // Below half now (empty): waiters go on, and a later whenWritable() resolves at once.
      s.checkWater();
    },
  } as ClientSession;
  return s;
}
