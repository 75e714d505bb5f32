import type { RungName } from '../protocol/api';

/**
 * One client connection on one rung, as the session sees it. A session outlives its links: a
 * reconnect or a rung change attaches a new link and the session resumes on it.
 */
export interface Link {
  readonly rung: RungName;
  /** Sends one encoded message (a frame or a batch). */
  send(text: string): void;
  /**
   * Sends encoded frames as one transport message: on WebSocket links one binary message when some
   * carry bytes (§1.3); on HTTP links one batch, joined once.
   */
  sendFrames?(parts: readonly string[]): void;
  /** The client reads an ack inside a `msg` frame (its hello said `pa`, §4): acks ride in messages. */
  pa?: boolean;
  /**
   * Bytes written to the link that the network has not taken yet (a socket's buffer, an unpolled
   * mailbox): past half `maxBufferedBytes` the session writes no more messages until `drained`.
   */
  backlog?(): number;
  /** Calls `fn` once the backlog has drained. */
  drained?(fn: () => void): void;
  /**
   * Bytes received on the link so far (its socket's count), where one socket carries the whole
   * uplink (WebSocket): a large message still arriving over a slow uplink is the client speaking.
   */
  received?(): number;
  /** Ends the link; `code` is a CloseCode (a WebSocket close code, or a `bye` on HTTP rungs). */
  close(code: number, reason: string): void;
  /**
   * True once the client left the link (its connection ended) before its hello was answered: an
   * attempt it abandoned, because another one won the race. Such a hello must not take a session
   * from another node: that node may be the one the client adopted.
   */
  abandoned?(): boolean;
}

/**
 * Flow control's other half for a link written through a socket (session-links.ts `full`): `sent`
 * goes with every write as its callback, and calls what `drained` was given once nothing waits to
 * leave. One function for every write, not one per write.
 */
export function drainSignal(backlog: () => number): { sent: () => void; drained: (fn: () => void) => void } {
  let waiting: (() => void) | undefined;
  return {
    sent: () => {
      if (!waiting || backlog()) return;
      const fn = waiting;
      waiting = undefined;
      fn();
    },
    drained: (fn) => void (waiting = fn),
  };
}
