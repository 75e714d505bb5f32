import { dataBytes, decodeData } from '../protocol/data';
import type { Batcher } from '../protocol/batcher';
import { encodeFrame } from '../protocol/encode';
import type { Frame, MsgFrame } from '../protocol/frames';
import { GAP, NEW, type Inbox } from '../protocol/inbox';
import type { Outbox } from '../protocol/outbox';
import type { Link } from './link';
import type { SessionBatcher } from './session-batcher';
import { violation, type Violation } from './violation';

/**
 * The app data of a client's `msg` frame, within the message bound and decoded (§1.1); or the
 * violation it commits. Decoded before the message counts as received: one we cannot read must
 * not be acknowledged.
 */
export function readMessage(f: Pick<MsgFrame, 's' | 'd' | 'e'>, textBytes: number, maxBytes: number): { data: unknown } | Violation {
  // Only a message as large as the whole transport message needs measuring on its own.
  if (textBytes > maxBytes) {
    // Bytes from a binary WebSocket message count raw (§1.3), as they travelled.
    let size;
    try {
      size = dataBytes(f.d);
    } catch {
      // JSON.parse reads any depth; JSON.stringify overflows the stack past some thousands. That
      // is the peer's doing: an error of ours (server_error, 4500) would not tell the truth.
      return violation('protocol_error', `message ${f.s}: data nested too deep`);
    }
    if (size > maxBytes) return violation('too_large', `message of ${size} bytes exceeds ${maxBytes}`);
  }
  try {
    return { data: decodeData(f.d, f.e) };
  } catch (err) {
    return violation('protocol_error', `message ${f.s}: ${(err as Error).message}`);
  }
}

/** One message of a `msg` frame or of a `run` (§1.4): in order, exactly once, then to the app. */
function readOne(s: number, ev: string, d: unknown, e: string | undefined, textBytes: number, sink: FrameSink): Violation | undefined {
  const read = readMessage({ s, d, e }, textBytes, sink.maxBytes);
  if (!('data' in read)) return read;
  const arrival = sink.inbox.accept(s);
  if (arrival === GAP) return violation('protocol_error', `message ${s} arrived after ${sink.inbox.received}`);
  if (arrival === NEW) sink.deliver(ev, read.data);
  sink.batcher.ackSoon();
  return undefined;
}

/** What reading a client's frames needs of its session. */
export interface FrameSink {
  inbox: Inbox;
  outbox: Outbox;
  batcher: Batcher;
  maxBytes: number;
  /** A new message, in order, decoded: to the app. */
  deliver(type: string, data: unknown): void;
  /** The client reported its attempts (`report`, protocol.md §4.1); never ends the link. */
  report(entries: unknown[], link: Link): void;
  /** The client said goodbye: the session ends. */
  bye(): void;
  /** False once the frames must stop: the session ended, or moved to another link meanwhile. */
  live(link: Link): boolean;
}

/**
 * Applies a transport message's frames from the client, in order, on `link`: messages (exactly
 * once: duplicates dropped, a gap is a violation), acks, pings. Returns the first violation.
 */
export function readFrames(frames: Frame[], textBytes: number, now: number, sink: FrameSink, link: Link): Violation | undefined {
  for (const f of frames) {
    switch (f.t) {
      case 'msg': {
        // An ack riding in the message (`pa`, §4) counts as an ack frame just before it.
        if (f.a !== undefined && !sink.outbox.ack(f.a, now)) return violation('protocol_error', `ack ${f.a} for messages never sent`);
        const problem = readOne(f.s, f.ev, f.d, f.e, textBytes, sink);
        if (problem) return problem;
        break;
      }
      case 'run': {
        // Messages s, s+1, … of one type, plain JSON (§1.4): each read as its own msg frame would
        // be (a resent run whose first part arrived before is a duplicate there, then new).
        if (f.a !== undefined && !sink.outbox.ack(f.a, now)) return violation('protocol_error', `ack ${f.a} for messages never sent`);
        for (let i = 0; i < f.d.length; i++) {
          const problem = readOne(f.s + i, f.ev, f.d[i], undefined, textBytes, sink);
          if (problem) return problem;
          if (!sink.live(link)) return undefined;
        }
        break;
      }
      case 'ack':
        if (!sink.outbox.ack(f.a, now)) return violation('protocol_error', `ack ${f.a} for messages never sent`);
        break;
      case 'ping':
        sink.batcher.push(encodeFrame.pong(f.n));
        sink.batcher.schedule();
        break;
      case 'pong':
        break;
      case 'report':
        sink.report(f.a, link);
        break;
      case 'bye':
        sink.bye();
        return undefined;
      default:
        return violation('protocol_error', `unexpected ${f.t} frame on an open session`);
    }
    if (!sink.live(link)) return undefined;
  }
  return undefined;
}

/**
 * Reads a transport message from the client (`readFrames`) so that what the app's handlers send
 * leaves when `link`'s rung wants it. `batcher`: the session's (session-batcher.ts).
 */
export function readTransportMessage(frames: Frame[], textBytes: number, now: number, sink: FrameSink, link: Link, batcher: SessionBatcher): Violation | undefined {
  // On HTTP rungs replies leave at the end of the tick: POSTs that the uplink's order releases
  // together are answered in one write (on long-polling, one poll's answer).
  if (link.rung !== 'ws' && link.rung !== 'wss') return readFrames(frames, textBytes, now, sink, link);
  // On WebSocket once the frames are read, without a promise (session-batcher.ts).
  batcher.reading();
  try {
    return readFrames(frames, textBytes, now, sink, link);
  } finally {
    batcher.read();
  }
}
