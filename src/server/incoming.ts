import { dataBytes, decodeData } from '../protocol/data';
import type { Batcher } from '../protocol/batcher';
import { encodeFrame } from '../protocol/encode';
import type { Frame, MsgFrame } from '../protocol/frames';
import type { Inbox } from '../protocol/inbox';
import type { Outbox } from '../protocol/outbox';
import type { Link } from './link';
import { violation, type Violation } from './violation';

/**
 * The app data of a client's `msg` frame, within the message bound and decoded (§1.1); or the
 * violation it commits. Decoded before the message counts as received: one we cannot read must
 * not be acknowledged.
 */
export function readMessage(f: MsgFrame, textBytes: number, maxBytes: number): { data: unknown } | Violation {
  // Only a message as large as the whole transport message needs measuring on its own.
  if (textBytes > maxBytes) {
    // Bytes from a binary WebSocket message count raw (§1.3), as they travelled.
    const size = dataBytes(f.d);
    if (size > maxBytes) return violation('too_large', `message of ${size} bytes exceeds ${maxBytes}`);
  }
  try {
    return { data: decodeData(f.d, f.e) };
  } catch (err) {
    return violation('protocol_error', `message ${f.s}: ${(err as Error).message}`);
  }
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
        const read = readMessage(f, textBytes, sink.maxBytes);
        if (!('data' in read)) return read;
        const arrival = sink.inbox.accept(f.s);
        if (arrival === 'gap') return violation('protocol_error', `message ${f.s} arrived after ${sink.inbox.received}`);
        if (arrival === 'new') sink.deliver(f.ev, read.data);
        sink.batcher.ackSoon();
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
