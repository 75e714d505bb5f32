import { decodeData } from '../protocol/data';
import type { MsgFrame } from '../protocol/frames';
import { utf8Length } from '../protocol/outbox';
import { violation, type Violation } from './violation';

/**
 * The app data of a client's `msg` frame, within the message bound and decoded (§1.1); or the
 * violation it commits. Decoded before the message counts as received: one we cannot read must
 * not be acknowledged.
 */
export function readMessage(f: MsgFrame, textBytes: number, maxBytes: number): { data: unknown } | Violation {
  // Only a message as large as the whole transport message needs measuring on its own.
  if (textBytes > maxBytes) {
    const size = utf8Length(JSON.stringify(f.d) ?? '');
    if (size > maxBytes) return violation('too_large', `message of ${size} bytes exceeds ${maxBytes}`);
  }
  try {
    return { data: decodeData(f.d, f.e) };
  } catch (err) {
    return violation('protocol_error', `message ${f.s}: ${(err as Error).message}`);
  }
}
