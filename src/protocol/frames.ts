/**
 * Wire protocol frames (v1, v2 and v3 share them). One JSON object per frame; a transport message carries one frame or
 * an array of frames (a batch). The normative description is docs/protocol.md; this file is its
 * type-level twin, so a change here without a change there is a bug.
 */

/**
 * Protocol versions this build speaks, newest first. Version 2 changes only how the HTTP rungs
 * open and poll (no reusable secret in a URL: docs/protocol.md §2); version 3 lets the open POST
 * answer with the downlink itself and numbers uplink POSTs so several can be in flight. Frames
 * are those of v1, and the server still accepts v1 and v2 clients.
 */
export const PROTOCOL_VERSIONS: readonly number[] = [3, 2, 1];
/** The version this build's client speaks. */
export const PROTOCOL_VERSION = 3;

/** Server → client, sent the moment a connection opens, before any authentication work. */
export interface GreetFrame { t: 'greet'; v: number[] }

/** Client → server: opens (or resumes) a session. */
export interface HelloFrame {
  t: 'hello';
  v: number;
  /** Resume: the session id and secret from an earlier welcome. */
  sid?: string;
  key?: string;
  /** Resume: the last server sequence number the client received in order. */
  ack?: number;
  /** Opaque credentials for the server's `authenticate` hook. */
  auth?: unknown;
  /** The same random token on every attempt of one race: they open (or resume) one session. */
  race?: string;
  /** 1: this client reads binary WebSocket messages (§1.3); without it a server writes text only. */
  bin?: number;
  /** 1: this client reads an ack inside a `msg` frame (`a`, §4); without it a server sends `ack` frames only. */
  pa?: number;
  /**
   * 1, on a resume: a new writer (a tab that took a shared session over) numbers its messages on
   * from the welcome's ack, so the server first closes the old writer's connections (§4).
   */
  fence?: number;
  /**
   * 1: the session is shared by browser tabs (wirefall/share): the server keeps its last
   * acknowledged messages a while, for a next leader tab that resumes behind the last ack (§4).
   */
  tabs?: number;
}

/** Server → client: the hello was accepted; the connection is verified in both directions. */
export interface WelcomeFrame {
  t: 'welcome';
  v: number;
  sid: string;
  key: string;
  /** Heartbeat interval in ms: the server sends something at least this often. */
  hb: number;
  /** The last client sequence number the server received in order (0 for a new session). */
  ack: number;
  /** True when an existing session was resumed; false when a new one started. */
  resumed: boolean;
  /** Largest encoded application message the server accepts, in bytes. */
  max: number;
  /** 1 on a WebSocket: this server reads binary messages (§1.3); without it a client writes text only. */
  bin?: number;
  /**
   * The server takes one `report` frame per connection, of at most this many entries (§4.1).
   * Absent: it does not (an older server would call the frame a protocol error).
   */
  rep?: number;
  /** 1: this server reads an ack inside a `msg` frame (`a`, §4); without it a client sends `ack` frames only. */
  pa?: number;
  /** 1: this server reads `run` frames (§1.4); without it a client sends `msg` frames only. */
  run?: number;
  /**
   * 1 on long-polling: a poll that says it read one answer less than was sent gets that answer
   * again (`r`, §2.3), so a client may try a failed poll again on the link; without it a lost
   * answer is lost with its link (the resume's `ack` has the server resend the messages).
   */
  rp?: number;
}

/**
 * `q` (server to client, HTTP rungs, §5): 1 = the server heard from the client lately and wants
 * no answer; 0 = it wants one. Present at all: a late server ping is no reason to ping on one's own.
 */
export interface PingFrame { t: 'ping'; n?: number; q?: number }
export interface PongFrame { t: 'pong'; n?: number }

/** An application message. `s` numbers messages per session and direction, from 1. */
export interface MsgFrame {
  t: 'msg';
  s: number;
  ev: string;
  d: unknown;
  /**
   * Payload encoding; absent means JSON. `b64`: bytes inside, as base64 tags (§1.1); `bin`: bytes
   * inside, as raw segments of the binary WebSocket message that carries the frame (§1.3).
   */
  e?: string;
  /**
   * The sender's cumulative ack, riding with the message: what an `ack` frame just before it
   * would say. Only to a peer that said `pa` (§4): one frame instead of two in a conversation.
   */
  a?: number;
}

/**
 * Client → server, only to a server whose welcome said `run` (§1.4): consecutive messages of one
 * type with plain JSON data, as one frame. `d[i]` is the data of message `s + i`; `a` as in `msg`.
 */
export interface RunFrame { t: 'run'; s: number; ev: string; d: unknown[]; a?: number }

/** Cumulative acknowledgement: every message with `s <= a` arrived. */
export interface AckFrame { t: 'ack'; a: number }

/**
 * One connection attempt as the client reports it (§4.1): `[rung, outcome, duration ms, reason]`,
 * the reason an `ErrorCode` (`WF_NO_DATA`), or null for a verified attempt.
 */
export type ReportEntry = [rung: string, outcome: string, ms: number, reason?: string | null];

/** Client → server, once per connection when the welcome has `rep`: the attempts since the last report. */
export interface ReportFrame { t: 'report'; a: ReportEntry[] }

/** An error the peer should know about; `fatal` ones are followed by the end of the connection. */
export interface ErrorFrame { t: 'error'; code: string; message: string; status?: number; fatal?: boolean }

/** The sender ends the connection (HTTP rungs have no close frame of their own). */
export interface ByeFrame { t: 'bye'; code: number; reason?: string }

export type Frame =
  | GreetFrame
  | HelloFrame
  | WelcomeFrame
  | PingFrame
  | PongFrame
  | MsgFrame
  | RunFrame
  | AckFrame
  | ErrorFrame
  | ByeFrame
  | ReportFrame;

export type FrameType = Frame['t'];
