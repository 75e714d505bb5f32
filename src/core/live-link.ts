import { Batcher } from '../protocol/batcher';
import { CloseCode } from '../protocol/close-codes';
import { encodeFrame } from '../protocol/encode';
import { decodeData } from '../protocol/data';
import { WirefallError } from '../protocol/errors';
import type { Frame, ReportEntry } from '../protocol/frames';
import type { Inbox } from '../protocol/inbox';
import type { Outbox } from '../protocol/outbox';
import type { RungName } from '../protocol/api';
import type { Clock } from '../platform';
import type { Transport, TransportFailure } from '../transports/transport';
import { Timers } from '../util/timers';
import type { Emitter } from '../util/emitter';
import { checkLiveness } from './liveness';

/** The app's handlers per message type: an emitter whose events are the message types. */
export type Subscribers = Emitter<Record<string, (data: unknown) => void>>;

/** What the live link tells the client. */
export interface LinkHost {
  /** The link failed or stalled; it has stopped itself. */
  lost(error: WirefallError): void;
  /** A non-fatal error the server reported. */
  error(error: WirefallError): void;
  /** Acks moved the outbox on (backpressure may ease). */
  acked(): void;
}

export interface LinkParts {
  clock: Clock;
  inbox: Inbox;
  outbox: Outbox;
  /** Heartbeat interval and largest message, from the welcome. */
  hb: number;
  max: number;
  /** The server reads binary WebSocket messages (its welcome said `bin`, §1.3). */
  bin?: boolean;
  /** 1: the server reads an ack inside a `msg` frame (its welcome said `pa`, §4). */
  pa?: number | undefined;
  /** 1: the server reads `run` frames (its welcome said `run`, §1.4). */
  run?: number | undefined;
  answerDeadline: number;
  handlers: Subscribers;
  host: LinkHost;
  /** The `report` frame to send after the claim, if any (protocol.md §4.1). */
  report?: ReportEntry[] | undefined;
  /** Hears each new server message with its number before the subscribers (src/share). */
  delivered?: (s: number, ev: string, data: unknown) => void;
}

/**
 * One verified, open connection: batching (shared with the server), acks, pings and liveness.
 * It lives until it is lost or replaced; the session (outbox, inbox) outlives it.
 */
export class LiveLink {
  readonly rung: RungName;
  /** The last measured round-trip time, ms. */
  rtt: number | undefined;
  #transport: Transport | undefined;
  #p: LinkParts;
  #batcher: Batcher;
  #timers: Timers<'ping' | 'liveness'>;
  #lastReceived: number;
  #lastAnswered: number;
  #ping: { n: number; at: number } | undefined;
  #pings = 0;
  /** When the armed liveness check fires (clock reading), or 0. */
  #livenessAt = 0;

  constructor(transport: Transport, rung: RungName, parts: LinkParts) {
    this.#transport = transport;
    this.rung = rung;
    this.#p = parts;
    this.#timers = new Timers(parts.clock);
    this.#lastReceived = this.#lastAnswered = parts.clock.now();
    const writer = parts.bin ? transport : { send: (text: string) => transport.send(text) };
    this.#batcher = new Batcher({
      clock: parts.clock,
      inbox: parts.inbox,
      outbox: parts.outbox,
      // A server that did not say it reads binary messages gets text only (§1.3).
      link: () => this.#transport && writer,
      // The server takes batches up to `max` bytes; one message alone is always under that.
      slice: () => parts.max / 2,
      sent: (idle) => idle && this.#armLiveness(),
    });
    this.#batcher.pa = parts.pa === 1;
    this.#batcher.run = parts.run === 1;
    // Speaking first claims the session for this connection (the server parks the others).
    this.#batcher.push(encodeFrame.ack(parts.inbox.received));
    if (parts.report) this.#batcher.push(encodeFrame.report(parts.report));
  }

  /** Starts heartbeats, handles frames that came with the welcome, and writes the claim. */
  start(rest: Frame[]): void {
    this.#armPing();
    if (rest.length) this.frames(rest);
    this.#armLiveness();
    this.#batcher.schedule();
  }

  /** The outbox has news: write now (`urgent`: a long burst leaves in slices) or at the end of the tick. */
  write(urgent: boolean): void {
    if (urgent) this.#batcher.flush();
    else this.#batcher.schedule();
  }

  /** Verifies the link now, rather than at the next heartbeat. */
  ping(): void {
    if (!this.#transport) return;
    this.#ping ??= { n: ++this.#pings, at: this.#p.clock.now() };
    this.#batcher.push(encodeFrame.ping(this.#ping.n));
    this.#batcher.schedule();
    this.#armLiveness();
  }

  /** Ends the link: every timer stops, and the transport is closed with `code`. */
  stop(code: number): void {
    const t = this.#transport;
    this.#transport = undefined;
    this.#timers.clear();
    this.#batcher.stop();
    t?.close(code);
  }

  fail(f: TransportFailure): void {
    if (!this.#transport) return;
    this.stop(CloseCode.HeartbeatTimeout);
    this.#p.host.lost(new WirefallError(f.code, f.message, { rung: this.rung, status: f.status, closeCode: f.closeCode }));
  }

  frames(frames: Frame[]): void {
    const { clock, inbox, outbox, host } = this.#p;
    const now = clock.now();
    this.#lastReceived = now;
    for (const f of frames) {
      // A subscriber may have closed the client, or a frame broken the link.
      if (!this.#transport) return;
      // An ack may ride in a msg frame (`pa`, §4): it counts as an ack frame just before it.
      if (f.t === 'ack' || (f.t === 'msg' && f.a !== undefined)) {
        if (!outbox.ack(f.a!, now)) return this.fail({ code: 'WF_PROTOCOL', message: `ack ${f.a} of unsent messages` });
        this.#lastAnswered = now;
        host.acked();
      }
      if (f.t === 'msg') {
        // Decoded before it counts as received: a message we cannot read must not be acked.
        let data: unknown;
        try {
          data = decodeData(f.d, f.e);
        } catch (e) {
          return this.fail({ code: 'WF_PROTOCOL', message: `message ${f.s}: ${(e as Error).message}` });
        }
        const arrival = inbox.accept(f.s);
        if (arrival === 'gap') return this.fail({ code: 'WF_PROTOCOL', message: `message ${f.s} after ${inbox.received}` });
        if (arrival === 'new') {
          this.#p.delivered?.(f.s, f.ev, data);
          this.#p.handlers.emit(f.ev, data);
        }
        this.#batcher.ackSoon();
      } else if (f.t === 'ping') {
        // The server's heartbeat paces ours: our ping rides with the answer (one uplink request
        // per beat instead of two on the HTTP rungs), and our own timer waits for the next beat.
        // On the HTTP rungs the server asks for an answer only when it did not hear from us
        // lately (`q`, §5), and half a beat of slack keeps a late ping from costing a request.
        if (!f.q) {
          this.#batcher.push(encodeFrame.pong(f.n));
          if (this.#ping) this.#batcher.schedule();
          else this.ping();
        }
        this.#armPing('q' in f ? 1.5 : 1);
      } else if (f.t === 'pong') {
        if (this.#ping && f.n === this.#ping.n) {
          this.rtt = now - this.#ping.at;
          this.#ping = undefined;
        }
        this.#lastAnswered = now;
      } else if (f.t === 'error') {
        host.error(new WirefallError(f.code === 'unauthorized' ? 'WF_UNAUTHORIZED' : 'WF_SERVER_ERROR', f.message, { rung: this.rung, status: f.status }));
      } else if (f.t !== 'ack') {
        const bye = f.t === 'bye';
        return this.fail({ code: bye ? 'WF_DISCONNECTED' : 'WF_PROTOCOL', message: bye ? `bye ${f.code} ${f.reason ?? ''}` : `unexpected ${f.t}`, closeCode: bye ? f.code : undefined });
      }
    }
    // No re-arming here: what arrives only moves deadlines later, and the armed timer re-checks.
  }


  #armPing(beats = 1): void {
    this.#timers.set('ping', () => (this.ping(), this.#armPing()), this.#p.hb * beats);
  }

  #armLiveness(): void {
    if (!this.#transport) return;
    const { clock, outbox, hb, answerDeadline } = this.#p;
    const now = clock.now();
    // A write starts an answer deadline no sooner than `answerDeadline` from now: a check armed
    // before that is soon enough (it re-checks from the readings when it fires).
    if (this.#livenessAt > now && this.#livenessAt <= now + answerDeadline + 1) return;
    const inFlight = outbox.oldestInFlight();
    const pingAt = this.#ping?.at;
    const v = checkLiveness(
      now,
      this.#lastReceived,
      Math.max(this.#lastAnswered, outbox.ackedAt),
      inFlight === undefined ? pingAt : Math.min(inFlight, pingAt ?? inFlight),
      // Two heartbeat intervals: one late heartbeat is tolerated, a second is not.
      hb * 2,
      answerDeadline,
    );
    if (typeof v === 'string') return this.fail({ code: v, message: v === 'WF_UPLINK_STALLED' ? 'acks stopped' : 'silent' });
    // An armed check that comes no later than this one is kept: it re-checks from the readings
    // when it fires. So a conversation re-arms about once per answer deadline, not per write.
    const at = now + v + 1;
    if (this.#livenessAt > now && this.#livenessAt <= at) return;
    this.#livenessAt = at;
    this.#timers.set('liveness', () => ((this.#livenessAt = 0), this.#armLiveness()), at - now);
  }
}
