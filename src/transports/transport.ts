import type { ErrorCode } from '../protocol/errors';
import type { Rung } from '../core/rungs';
import type { Platform } from '../platform';

/**
 * A transport only moves encoded messages and reports how it failed. Verification, heartbeats,
 * acknowledgements, reconnects and the ladder live in the core, once, for every rung.
 */
export interface Transport {
  /** Sends one encoded message (a frame or a batch). Only called after `open`. */
  send(text: string): void;
  /** WebSocket: sends encoded frames, as one binary message when some carry bytes (§1.3). */
  sendFrames?(parts: readonly string[]): void;
  /** Ends the connection; no event follows. */
  close(code?: number, reason?: string): void;
}

/** Why a transport ended, in terms the core turns into a `WirefallError`. */
export interface TransportFailure {
  code: ErrorCode;
  message: string;
  status?: number;
  closeCode?: number;
  /** True when the server itself answered (its own refusal): the ladder should not fall through. */
  fromServer?: boolean;
  cause?: unknown;
}

export interface TransportEvents {
  /** The channel is up (WebSocket `open`, SSE response head). Not yet verified. */
  open(): void;
  /**
   * One encoded message arrived: text, or a binary WebSocket message (§1.3). Returns truthy when
   * messages keep arriving at once with nothing new in them (src/core/live-link.ts): long-polling
   * then waits before its next poll.
   */
  message(data: string | Uint8Array): unknown;
  /** The channel is gone. Called at most once, never after `close()`. */
  close(failure: TransportFailure): void;
}

export interface TransportContext {
  rung: Rung;
  /** The encoded hello: WebSocket sends it on open, the HTTP rungs put it in their first request. */
  hello: string;
  platform: Platform;
  events: TransportEvents;
}

export type TransportFactory = (ctx: TransportContext) => Transport;
