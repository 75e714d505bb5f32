import { TYPE } from '../../protocol/limits';
import type { MAX_ROOM_LENGTH } from '../rooms';

/*
 * What a node reads back from a shared store (fan-out entries, a session's replay and rooms) is
 * checked like a peer's input before it reaches a client. A message the client's decoder refuses
 * (a payload that is not JSON, an unknown encoding, an empty or over-long type) is not dropped by
 * the client: it closes the link as a protocol error, resumes, and is sent the same message again
 * from the replay, for ever (docs/scaling.md §5, "Corrupt data in Redis").
 *
 * Nothing here imports the payload decoder: the node passes it in (`StoreNode.readable`, from
 * fan-out.ts). Imported here, it changed how the build splits the modules it shares with the
 * client, and the client's bundle grew by 43 B.
 */

/** Whether a client's decoder takes a payload (JSON text) in encoding `e`. */
export type Readable = (payload: string, e: string | undefined) => boolean;

/** Without the node's decoder: JSON, in no encoding or `b64`. */
export const jsonOnly: Readable = (payload, e) => {
  if (e !== undefined && e !== 'b64') return false;
  try {
    JSON.parse(payload);
    return true;
  } catch {
    return false;
  }
};

/** Whether a message (`ev`, its payload as JSON text, its encoding) is one a client's decoder takes. */
export function wellFormedMessage(type: unknown, payload: unknown, e: unknown, readable: Readable = jsonOnly): boolean {
  if (typeof type !== 'string' || !type || type.length > TYPE || typeof payload !== 'string') return false;
  return (e === undefined || typeof e === 'string') && readable(payload, e);
}

/** The bound of `checkRoom` (rooms.ts), here by value: the type says when they differ. */
const ROOM_MAX: typeof MAX_ROOM_LENGTH = 256;

/** Whether `room` is a name `conn.join` would take (1–256 characters). */
export function wellFormedRoom(room: unknown): room is string {
  return typeof room === 'string' && room.length > 0 && room.length <= ROOM_MAX;
}
