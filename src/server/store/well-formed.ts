import { BINARY, decodeData } from '../../protocol/data';
import { TYPE } from '../../protocol/limits';
import { MAX_ROOM_LENGTH } from '../rooms';

/*
 * What a node reads back from a shared store (fan-out entries, a session's replay and rooms) is
 * checked like a peer's input before it reaches a client. A message the client's decoder refuses
 * (a payload that is not JSON, an unknown encoding, an empty or over-long type) is not dropped by
 * the client: it closes the link as a protocol error, resumes, and is sent the same message again
 * from the replay, for ever (docs/scaling.md §5, "Corrupt data in Redis").
 */

/** Whether a message (`ev`, its payload as JSON text, its encoding) is one a client's decoder takes. */
export function wellFormedMessage(type: unknown, payload: unknown, e: unknown): boolean {
  if (typeof type !== 'string' || !type || type.length > TYPE || typeof payload !== 'string') return false;
  if (e !== undefined && e !== BINARY) return false;
  try {
    // Parsed and, with bytes inside, untagged as the client will (a stray `$` key breaks it).
    decodeData(JSON.parse(payload) as unknown, e);
    return true;
  } catch {
    return false;
  }
}

/** Whether `room` is a name `conn.join` would take (1–256 characters). */
export function wellFormedRoom(room: unknown): room is string {
  return typeof room === 'string' && room.length > 0 && room.length <= MAX_ROOM_LENGTH;
}
