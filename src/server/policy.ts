import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { REFUSAL_HEADER } from '../protocol/wire-errors';
import type { ServerOptions } from './options';

export { REFUSAL_HEADER };

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


/** Compares a presented session key with the real one in constant time. */
export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

