/**
 * wirefall/share: one connection for every tab of an origin (docs/sharing.md).
 *
 * @example
 * import { connect } from 'wirefall';
 * import { share } from 'wirefall/share';
 * const client = connect<Chat>('https://example.com/wirefall', { share: share() });
 * client.role; // 'leader' | 'follower', or 'solo' where Web Locks or BroadcastChannel are missing
 */
import type { ShareFactory } from '../core/session-tap';
import { SharedClient } from './shared-client';
import { sharePlatform } from '../platform';

export { SharedClient, SYNC_MS } from './shared-client';
export type { ShareFactory, ShareContext } from '../core/session-tap';
export type { SessionTap, SessionSeed } from './tap';

export interface ShareOptions {
  /** Tabs with the same name share; default: one name per server URL. */
  name?: string;
}

/**
 * Makes `connect` share its connection with the other tabs of the origin. Where Web Locks or
 * `BroadcastChannel` are missing (old browsers, Node, some workers) the context keeps its own
 * connection, as without this option, and its client's `role` says `solo`.
 */
export function share(options: ShareOptions = {}): ShareFactory {
  return (ctx) => {
    const platform = sharePlatform(ctx.platform);
    if (!platform.locks || !platform.channel) return ctx.make();
    return new SharedClient({ ...ctx, platform }, options.name ?? `wirefall:${new URL(ctx.url, platform.pageUrl ?? 'http://localhost/').href}`) as never;
  };
}
