/**
 * Fan-out: a broadcast or room message is encoded once, published through the store (which may
 * carry it to other nodes), and delivered to each matching session of this node.
 */
import { decodeData, tryEncode } from '../protocol/data';
import { WirefallError } from '../protocol/errors';
import type { ApiShape } from '../protocol/api';
import { Durable } from './durable';
import type { Hub } from './hub';
import type { Logger } from './options';
import type { Rooms } from './rooms';
import type { Connection } from './session';
import type { FanOutEntry, SessionStore } from './store/types';

/** The entry to publish: the payload once for every recipient, or `WF_INVALID` naming what cannot make the trip. */
export function fanOutEntry(type: string, data: unknown, room: string | undefined, except: string | undefined): FanOutEntry {
  const encoded = tryEncode(data, type);
  if (encoded instanceof WirefallError) throw encoded;
  const body = encoded.e === undefined ? { payload: encoded.payload } : { payload: encoded.payload, e: encoded.e };
  return room === undefined ? { type, ...body, except } : { room, type, ...body, except };
}

/** Whether this node's clients can decode `payload` in encoding `e` (what a store reads back is checked with it). */
export function readable(payload: string, e: string | undefined): boolean {
  try {
    decodeData(JSON.parse(payload) as unknown, e);
    return true;
  } catch {
    return false;
  }
}

/** Delivers the store's entries (published here or on another node) to this node's sessions. */
export function fanOutDelivery<Api extends ApiShape, User>(hub: Hub<Api, User>, rooms: Rooms<Api, User>, store: SessionStore, logger: Logger) {
  const send = (c: Connection<Api, User>, entry: FanOutEntry): void => {
    // Fan-out: a node the session moves to delivers it again from the log (durable.ts, `leaving`).
    Durable.fanning = true;
    try {
      c.sendEncoded(entry.type, entry.payload, false, entry.e)?.catch((err: Error) => {
        if (!c.closed) logger.warn(`${entry.room === undefined ? 'broadcast' : `room ${entry.room}`} to ${c.id} failed: ${err.message}`);
      });
    } finally {
      Durable.fanning = false;
    }
  };
  return {
    /** An entry for every session it targets. */
    deliver(entry: FanOutEntry): void {
      const targets = entry.room === undefined ? hub.targets() : rooms.members(entry.room);
      const skips = store.skips?.bind(store);
      for (const c of targets) if (c.id !== entry.except && !skips?.(c.id, entry)) send(c, entry);
    },
    readable,
    /** An entry for one session (it catches up from the store's log after a move). */
    deliverTo(id: string, entry: FanOutEntry): void {
      const c = hub.sessions.get(id);
      if (!c || c.closed || c.id === entry.except || (entry.room !== undefined && !c.rooms.includes(entry.room))) return;
      send(c, entry);
    },
  };
}
