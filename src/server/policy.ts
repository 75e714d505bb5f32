import type { IncomingMessage } from 'node:http';
import type { ServerOptions } from './options';

/**
 * WebSocket has no same-origin policy: any page can open one to us with the user's cookies
 * (Cross-Site WebSocket Hijacking). The `Origin` header is the browser's word on who asks.
 */
export function originAllowed(req: IncomingMessage, allowed: ServerOptions['allowedOrigins']): boolean {
  if (!allowed) return true;
  const origin = req.headers.origin;
  // Non-browser clients send no Origin and cannot be hijacked through a victim's browser.
  if (origin === undefined) return true;
  return typeof allowed === 'function' ? allowed(origin) : allowed.includes(origin);
}

/** The header that tells our client a refusal came from the server itself, not a middlebox. */
export const REFUSAL_HEADER = 'x-wirefall-error';
