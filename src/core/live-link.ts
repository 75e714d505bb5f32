// Close codes as checked literals: importing the CloseCode table would put all of it in the client bundle (-155 B gzip).
import type { CloseCode } from '../protocol/close-codes';
import { DEV } from '../dev';
import { createBatcher } from '../protocol/batcher';
import { encodeAck, encodePing, encodePong, encodeReport } from '../protocol/encode';
import { decodeData } from '../protocol/data';
import { GAP, NEW } from '../protocol/inbox';
import { WirefallError } from '../protocol/errors';
import type { Frame, ReportEntry, WelcomeFrame } from '../protocol/frames';
import type { RungName } from '../protocol/api';
import type { Clock } from '../platform';
import type { Transport, TransportFailure } from '../transports/transport';
import type { Emitter } from '../util/emitter';
import { timers } from '../util/timers';
import type { ClientSession } from './client-session';
import { checkLiveness } from './liveness';

/** The app's handlers per message type: an emitter whose events are the message types. */
export type Subscribers = Emitter<Record<string, (data: unknown) => void>>;

/**
 * What every live link of a client shares: made once by the client, not per link. It is the
 * session the link carries (its inbox is acked, its outbox written), with the client's callbacks.
 */
export interface LinkHost extends ClientSession {
  clock: Clock;
  answerDeadline: number;
  /** A new server message, with its number: to the subscribers (and, sharing, to the other tabs first). */
  deliver(s: number, ev: string, data: unknown): void;
  /** The link failed or stalled; it has stopped itself. */
  lost(error: WirefallError, rung: RungName): void;
  /** A non-fatal error the server reported. */
  error(error: WirefallError): void;
}

/** One verified, open connection (see `liveLink`). */
export interface LiveLink {
  readonly rung: RungName;
  /** The last measured round-trip time, ms. */
  rtt?: number;
  /** Starts heartbeats, handles frames that came with the welcome, and writes the claim. */
  start(rest: Frame[]): void;
  /** The outbox has news: write now (`urgent`: a long burst leaves in slices) or at the end of the tick. */
  write(urgent?: boolean): void;
  /** Verifies the link now, rather than at the next heartbeat. */
  ping(): void;
  /** Ends the link: every timer stops, and the transport is closed with `code`. */
  stop(code: number): void;
  /**
   * The link failed (its transport's failure, or one the link found): it stops and tells the
   * host (`lost`). Named as the attempt's sink names it: the link is that sink (`handOver(link)`).
   */
  close(f: TransportFailure): void;
  /**
   * Handles what arrived. True after two transport messages in a row that each came soon after
   * the one before and brought no news (a new message, an ack that moved the outbox on, the
   * server's beat): long-polling then waits before its next poll.
   */
  frames(frames: Frame[]): boolean | void;
}

/**
 * One verified, open connection: batching (shared with the server), acks, pings and liveness.
 * It lives until it is lost or replaced; the session (outbox, inbox) outlives it. `w`: its
 * welcome (heartbeat, largest message, `bin`, `pa`, `run`); `report`: the `report` frame to send after
 * the claim, if any (protocol.md §4.1). A closure, not a class: the client bundle pays for every
 * `this.#field` (scripts/size.mjs).
 */
export function liveLink(transport: Transport, rung: RungName, w: WelcomeFrame, host: LinkHost, report?: ReportEntry[]): LiveLink {
  const { clock, answerDeadline, inbox, outbox } = host;
  let live: Transport | undefined = transport;
  let lastReceived = clock.now();
  let lastAnswered = lastReceived;
  let ping: { n: number; at: number } | undefined;
  let pings = 0;
  /** Transport messages in a row that came soon and brought no news, and when the server last pinged (`frames`). */
  let idle = 0;
  let pinged = 0;
  /** When the armed liveness check fires (clock reading), or 0. */
  let livenessAt = 0;
  const arm = timers<'ping' | 'liveness'>(clock);
  // A server that did not say it reads binary messages gets text only (§1.3).
  const writer = w.bin === 1 ? transport : { send: (text: string) => transport.send(text) };
  const batcher = createBatcher({
    clock,
    inbox,
    outbox,
    link: () => live && writer,
    // The server takes batches up to `max` bytes; one message alone is always under that.
    slice: () => w.max / 2,
    sent: (idle) => idle && armLiveness(),
  });
  batcher.pa = w.pa === 1;
  batcher.run = w.run === 1;
  // Speaking first claims the session for this connection (the server parks the others).
  batcher.push(encodeAck(inbox.received));
  if (report) batcher.push(encodeReport(report));

  // The server's beat, trusted up to a minute (protocol.md §5): a welcome's `hb` of an hour or a
  // year (a broken server, or a typo) meant no ping of ours and no silence bound, so an idle
  // client never noticed a dead link. Past a minute we ping on our own every minute (the protocol
  // lets a client ping whenever it likes) and a silence of two minutes is a stall: a server's long
  // beat still spares its clients most of its pings, and a dead link is found within ~62 s.
  // And from a second: a welcome's `hb` of 0 or 1 (a broken server, a hostile one) had the client
  // ping every millisecond and take 2 ms of silence for a stall, so it never stayed open. A server
  // may still ping faster (each ping is answered); the client's own pace and bound stop at 1 s.
  const hb = Math.min(Math.max(w.hb, 1e3), 6e4);
  const armPing = (beats = 1): void => arm('ping', () => (link.ping(), armPing()), hb * beats);

  function armLiveness(): void {
    if (!live) return;
    const now = clock.now();
    // A write starts an answer deadline no sooner than `answerDeadline` from now: a check armed
    // before that is soon enough (it re-checks from the readings when it fires).
    if (livenessAt > now && livenessAt <= now + answerDeadline + 1) return;
    const inFlight = outbox.oldestInFlight();
    const pingAt = ping?.at;
    const v = checkLiveness(
      now,
      lastReceived,
      Math.max(lastAnswered, outbox.ackedAt),
      inFlight === undefined ? pingAt : Math.min(inFlight, pingAt ?? inFlight),
      // Two heartbeat intervals: one late heartbeat is tolerated, a second is not.
      hb * 2,
      // The answer deadline, plus the time what is held may take to leave a slow uplink (32 KB/s,
      // a weak phone's): the ack of a 300 KB message comes seconds after its write, and 2 s alone
      // made its every resend a stall (docs/transports.md, "Liveness"). At most one write's worth
      // (`max`): the oldest message's ack comes with its own transport message, whatever follows.
      answerDeadline + Math.min(outbox.bytes, w.max) / 32,
    );
    if (typeof v === 'string') return link.close({ code: v, message: DEV ? (v === 'WF_UPLINK_STALLED' ? 'acks stopped' : 'silent') : '' });
    // An armed check that comes no later than this one is kept: it re-checks from the readings
    // when it fires. So a conversation re-arms about once per answer deadline, not per write.
    const at = now + v + 1;
    if (livenessAt > now && livenessAt <= at) return;
    livenessAt = at;
    arm('liveness', () => ((livenessAt = 0), armLiveness()), at - now);
  }

  const link: LiveLink = {
    rung,
    start(rest) {
      armPing();
      if (rest.length) link.frames(rest);
      armLiveness();
      batcher.schedule();
    },
    write: (urgent) => (urgent ? batcher.flush() : batcher.schedule()),
    ping() {
      if (!live) return;
      ping ??= { n: ++pings, at: clock.now() };
      batcher.push(encodePing(ping.n));
      batcher.schedule();
      armLiveness();
    },
    stop(code) {
      const t = live;
      live = undefined;
      arm();
      batcher.stop();
      t?.close(code);
    },
    close(f) {
      if (!live) return;
      link.stop(4009 satisfies typeof CloseCode.HeartbeatTimeout);
      host.lost(new WirefallError(f.code, f.message, { rung, status: f.status, closeCode: f.closeCode }), rung);
    },
    frames(frames) {
      const now = clock.now();
      const was = inbox.received + outbox.acked;
      // Soon: within a second of the one before (on long-polling, of its poll: an answer held
      // longer, such as a hold that ran out, is no sign of a loop).
      const soon = now - lastReceived < 1e3;
      let beat;
      lastReceived = now;
      for (const f of frames) {
        // A subscriber may have closed the client, or a frame broken the link.
        if (!live) return;
        // An ack may ride in a msg frame (`pa`, §4): it counts as an ack frame just before it.
        if (f.t === 'ack' || (f.t === 'msg' && f.a !== undefined)) {
          if (!outbox.ack(f.a!, now)) return link.close({ code: 'WF_PROTOCOL', message: DEV ? `ack ${f.a} of unsent messages` : '' });
          lastAnswered = now;
          // Acks moved the outbox on: backpressure may ease.
          host.checkWater();
        }
        if (f.t === 'msg') {
          // Decoded before it counts as received: a message we cannot read must not be acked.
          let data: unknown;
          try {
            data = decodeData(f.d, f.e);
          } catch (e) {
            return link.close({ code: 'WF_PROTOCOL', message: DEV ? `message ${f.s}: ${(e as Error).message}` : '' });
          }
          const arrival = inbox.accept(f.s);
          if (arrival === GAP) return link.close({ code: 'WF_PROTOCOL', message: DEV ? `message ${f.s} after ${inbox.received}` : '' });
          if (arrival === NEW) host.deliver(f.s, f.ev, data);
          batcher.ackSoon();
        } else if (f.t === 'ping') {
          // The server's beat, not sooner than half a beat after the last: news (below).
          beat = now - pinged > hb / 2;
          pinged = now;
          // The server's heartbeat paces ours: our ping rides with the answer (one uplink request
          // per beat instead of two on the HTTP rungs), and our own timer waits for the next beat.
          // On the HTTP rungs the server asks for an answer only when it did not hear from us
          // lately (`q`, §5), and half a beat of slack keeps a late ping from costing a request.
          if (!f.q) {
            batcher.push(encodePong(f.n));
            if (ping) batcher.schedule();
            else link.ping();
          }
          armPing('q' in f ? 1.5 : 1);
        } else if (f.t === 'pong') {
          if (ping && f.n === ping.n) {
            link.rtt = now - ping.at;
            ping = undefined;
          }
          lastAnswered = now;
        } else if (f.t === 'error') {
          host.error(new WirefallError(f.code === 'unauthorized' ? 'WF_UNAUTHORIZED' : 'WF_SERVER_ERROR', f.message, { rung, status: f.status }));
        } else if (f.t !== 'ack') {
          const bye = f.t === 'bye';
          return link.close({ code: bye ? 'WF_DISCONNECTED' : 'WF_PROTOCOL', message: DEV ? (bye ? `bye ${f.code} ${f.reason ?? ''}` : `unexpected ${f.t}`) : (bye && f.reason) || '', closeCode: bye ? f.code : undefined });
        }
      }
      // No re-arming here: what arrives only moves deadlines later, and the armed timer re-checks.
      // News: a new message, an ack that moved the outbox on, the server's beat. A server or
      // middlebox that answers every poll at once with nothing new (`[]`, pings, an ack of
      // nothing) had a long-poll client polling as fast as the network went, for ever (1,225 polls
      // in 1.8 s on localhost with a ping): after two such answers in a row, each poll waits a
      // second (long-polling.ts) until news comes. Two, not one: a pong alone answers our ping at
      // once. What comes late neither counts nor resets (the answer after a wait comes late).
      idle = was !== inbox.received + outbox.acked || beat ? 0 : idle + +soon;
      return idle > 1;
    },
  };
  return link;
}
