import type { Client } from './client';
import type { ClientOptions } from './options';
import type { LinkHost } from './live-link';
import type { Platform } from '../platform';

/**
 * @internal What a sharing layer reaches of the client it makes: its session (outbox, inbox, its id,
 * set to resume a session another context began, welcome, hello), which is also what every live
 * link shares (`deliver` hears each new server message with its number). The core calls no hook of its
 * own: wirefall/share (src/share/tap.ts) wraps the methods it needs to hear from, so a client
 * that does not share carries none of it.
 */
export interface ClientInternals extends LinkHost {
  /** The close code `close()` ends the link with: 1000, or 1001 to leave the session for another context. */
  readonly bye: number;
}

/** @internal Called once with a new client's internals, before its first race. */
export type ClientHook = (c: ClientInternals) => void;

/** What `connect` gives a share factory: the platform, and a way to make the real client. */
export interface ShareContext {
  url: string;
  options: ClientOptions;
  platform: Platform;
  /**
   * Makes this context's own connection; `hook` (wirefall/share's) sees into its session. Its
   * parameter's type is internal (`ClientInternals`), so it is `never` here.
   */
  make(hook?: (internals: never) => void): Client;
}

/** What `share()` from `wirefall/share` returns; `connect` calls it instead of making its own client. */
export type ShareFactory = (ctx: ShareContext) => Client;
