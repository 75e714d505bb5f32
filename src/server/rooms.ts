import type { ApiShape } from '../protocol/api';
import { WirefallError } from '../protocol/errors';
import type { Connection } from './session';

/**
 * This node's room membership: which of its live sessions are in which room. Membership belongs
 * to the session (a `Connection` outlives its links), so a client that reconnects, on any rung,
 * is still in its rooms; it ends with the session.
 *
 * `watch` hears when a room gains its first member on this node and loses its last, so that a
 * shared store subscribes this node to that room's fan-out only while it has members there
 * (sharded pub/sub: a node listens to the rooms it serves, not to every room of the fleet).
 */
export class Rooms<Api extends ApiShape, User> {
  #members = new Map<string, Set<Connection<Api, User>>>();
  #of = new Map<Connection<Api, User>, Set<string>>();
  #watch: (room: string, present: boolean) => void;

  constructor(watch: (room: string, present: boolean) => void = () => {}) {
    this.#watch = watch;
  }

  /** Adds `conn` to `room`; false when it was a member already. */
  join(conn: Connection<Api, User>, room: string): boolean {
    let set = this.#members.get(room);
    if (set?.has(conn)) return false;
    if (!set) {
      set = new Set();
      this.#members.set(room, set);
      this.#watch(room, true);
    }
    set.add(conn);
    let mine = this.#of.get(conn);
    if (!mine) this.#of.set(conn, (mine = new Set()));
    mine.add(room);
    return true;
  }

  /** Removes `conn` from `room`; false when it was not a member. */
  leave(conn: Connection<Api, User>, room: string): boolean {
    const set = this.#members.get(room);
    if (!set?.delete(conn)) return false;
    if (!set.size) {
      this.#members.delete(room);
      this.#watch(room, false);
    }
    const mine = this.#of.get(conn);
    mine?.delete(room);
    if (mine && !mine.size) this.#of.delete(conn);
    return true;
  }

  /** The session ended: it leaves every room. */
  drop(conn: Connection<Api, User>): void {
    for (const room of [...(this.#of.get(conn) ?? [])]) this.leave(conn, room);
  }

  /** The rooms `conn` is in (a copy). */
  roomsOf(conn: Connection<Api, User>): string[] {
    return [...(this.#of.get(conn) ?? [])];
  }

  /** This node's members of `room` (live: do not keep). */
  members(room: string): Iterable<Connection<Api, User>> {
    return this.#members.get(room) ?? [];
  }
}

/** Longest room name, like a message type (`ev`): room names travel in fan-out entries. */
export const MAX_ROOM_LENGTH = 256;

/** Throws `WF_INVALID` for a room name that is not a string of 1–256 characters (an app bug). */
export function checkRoom(room: unknown): asserts room is string {
  if (typeof room !== 'string' || room.length === 0 || room.length > MAX_ROOM_LENGTH) {
    throw new WirefallError('WF_INVALID', `a room name must be a string of 1–${MAX_ROOM_LENGTH} characters`);
  }
}
