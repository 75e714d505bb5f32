/**
 * The messages tabs exchange over the BroadcastChannel (docs/sharing.md). Structured clone carries
 * them, so they are plain data: errors travel as their fields and are rebuilt on arrival.
 */
import type { AttemptRecord } from '../core/attempt';
import type { ConnectionState } from '../core/client-types';
import type { RungName } from '../protocol/api';
import { WirefallError, type ErrorCode } from '../protocol/errors';

/** An unacknowledged send as every tab mirrors it: its number, its content and who sent it. */
export interface MirrorEntry {
  s: number;
  ev: string;
  payload: string;
  /** The payload's encoding when it is not plain JSON (`b64`: bytes inside). */
  enc?: string;
  /** The payload's UTF-8 bytes, as the leader's outbox measured them (absent from a tab of an older version). */
  n?: number;
  from: string;
  id: number;
}

/** What a tab knows of the session: enough for it to resume it if it becomes the leader. */
export interface MirrorState {
  session?: { sid: string; key: string };
  acked: number;
  next: number;
  entries: MirrorEntry[];
  /** Per tab, the highest call id of its sends acknowledged (absent from a tab of an older version). */
  calls?: Record<string, number>;
}

/** The shared connection as the leader's client describes it. */
export interface Snapshot {
  state: ConnectionState;
  rung: RungName | null;
  attempts: readonly AttemptRecord[];
  rtt?: number;
  high: boolean;
}

export interface ErrorShape {
  code: ErrorCode;
  message: string;
  status?: number;
  rung?: RungName;
  closeCode?: number;
}

export type TabMessage =
  /** A tab arrived (or asks again): the leader answers with `snap`. */
  | { t: 'join'; tab: string }
  /** A tab closed; `away`: it went into the back/forward cache, and may come back with the same id. */
  | { t: 'leave'; tab: string; away?: boolean }
  | { t: 'snap'; to: string; leader: string; snap: Snapshot; received: number; mirror: MirrorState }
  /** Any client method, called in `from` and run by the leader. */
  | { t: 'call'; from: string; id: number; method: string; args: unknown[] }
  /** A send got its number: every tab mirrors it before the leader writes it. */
  | { t: 'assigned'; e: MirrorEntry }
  /**
   * The sending tab heard the `assigned` of its call `id`: it knows the number and will not submit
   * the call again, so the leader may write it (until then the leader holds it unwritten).
   */
  | { t: 'confirm'; from: string; id: number }
  /** A call settled; for a send, `s` leaves every mirror. */
  | { t: 'done'; to: string; id: number; s?: number; ok: boolean; value?: unknown; error?: ErrorShape }
  | { t: 'msg'; s: number; ev: string; d: unknown }
  | { t: 'event'; name: 'error' | 'sessionlost' | 'backpressure'; args: unknown[] }
  | { t: 'state'; snap: Snapshot }
  /** The leader's client finished an attempt (its `attempt` event); `attempts`: all of them so far. */
  | { t: 'attempt'; a: AttemptRecord; attempts: AttemptRecord[] }
  /**
   * A welcome gave the session's id. `resumed` false: a new session, whose server messages are
   * numbered from 1 again (absent from a tab of an older version).
   */
  | { t: 'session'; sid: string; key: string; resumed?: boolean }
  /**
   * A new leader's resumed welcome acknowledged up to `ack`; the sends in `moved` now carry new
   * numbers (contiguous from `ack + 1`). Posted before any of them is written.
   */
  | { t: 'renumbered'; moved: { from: number; to: number }[]; ack: number }
  /** The server lost the session: unsent mirrored sends are numbered again from 1. */
  | { t: 'renumber' }
  /** A new leader asks every tab what it knows, before resuming. */
  | { t: 'sync'; leader: string }
  | { t: 'synced'; from: string; to: string; received: number; mirror: MirrorState }
  /**
   * The new leader serves: calls not in `seeded` are submitted again. `fresh`: there was no
   * session to resume (the old leader went before its first welcome), so the numbers the old
   * leader gave belong to no session: every mirror empties and every call is submitted again.
   */
  | { t: 'leader'; tab: string; seeded: { from: string; id: number }[]; fresh?: boolean };

export function errorShape(e: unknown): ErrorShape {
  if (e instanceof WirefallError) return { code: e.code, message: e.message, status: e.status, rung: e.rung, closeCode: e.closeCode };
  return { code: 'WF_INVALID', message: String((e as Error)?.message ?? e) };
}

export function errorFrom(x: ErrorShape): WirefallError {
  return new WirefallError(x.code, x.message, { status: x.status, rung: x.rung, closeCode: x.closeCode });
}
