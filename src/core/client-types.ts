import type { RungName } from '../protocol/api';
import type { WirefallError } from '../protocol/errors';
import type { Platform } from '../platform';
import type { TransportFactory } from '../transports/transport';
import type { Rung } from './rungs';
import type { AttemptRecord } from './attempt';
import type { ClientHook } from './session-tap';

/** `connecting`: first connection; `open`: verified and usable; `reconnecting`: lost it, trying again; `closed`: for good. */
export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'closed';

/** Who holds the connection: `solo` (this context's own), `leader` (this tab, for all tabs), `follower` (another tab). */
export type ClientRole = 'solo' | 'leader' | 'follower';

/** A message the server never acknowledged before it lost the session. */
export interface UndeliveredMessage {
  type: string;
  data: unknown;
}

export interface ClientEvents {
  /** The state or the rung in use changed (told once the transition is complete). */
  state: (state: ConnectionState, rung: RungName | null) => void;
  /** Every error, retryable or not; a listener or subscriber that throws is reported here too. */
  error: (error: WirefallError) => void;
  /** The server no longer knew the session: these messages may not have arrived; resynchronise. */
  sessionlost: (undelivered: UndeliveredMessage[]) => void;
  /** The outbox crossed its high-water mark (`true`) or drained below half of it (`false`). */
  backpressure: (high: boolean, bufferedBytes: number) => void;
  /** A connection attempt ended (verified, failed with its reason, or abandoned): `client.attempts` grew. */
  attempt: (record: AttemptRecord) => void;
}

/** @internal The rungs and transports a client runs on, decided by `connect`. */
export interface ClientSetup {
  /** The whole ladder, best rung first. */
  rungs: Rung[];
  /** Identifies the server for the rung memory. */
  serverKey: string;
  factories: Partial<Record<RungName, TransportFactory>>;
  platform: Platform;
  /** A sharing layer's view into the session (src/share). */
  hook?: ClientHook;
}
