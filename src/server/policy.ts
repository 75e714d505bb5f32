import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { REFUSAL_HEADER } from '../protocol/wire-errors';
import type { Logger, ServerOptions } from './options';

export { REFUSAL_HEADER };

/**
 * WebSocket has no same-origin policy: any page can open one to us with the user's cookies
 * (Cross-Site WebSocket Hijacking). The `Origin` header is the browser's word on who asks.
 */
export function originAllowed(req: IncomingMessage, allowed: ServerOptions['allowedOrigins'], logger: Logger): boolean {
  if (!allowed) return true;
  const origin = req.headers.origin;
  // Non-browser clients send no Origin and cannot be hijacked through a victim's browser. But a
  // browser sends none on a cross-site navigation or <img> either, with the user's cookies
  // (SameSite=Lax allows a top-level GET): `Sec-Fetch-Site` says so, where an allow-list asks
  // us to care. A cross-site request *with* an allowed Origin is the app's own cross-site page.
  if (origin === undefined) return req.headers['sec-fetch-site'] !== 'cross-site';
  if (typeof allowed !== 'function') return allowed.includes(origin);
  try {
    // The app's predicate may throw (`new URL('null')`: sandboxed iframes send `Origin: null`).
    // An origin we cannot judge is not allowed.
    return Boolean(allowed(origin));
  } catch (err) {
    logger.warn(`allowedOrigins threw; refusing the origin: ${String(err)}`, { origin });
    return false;
  }
}


/** Compares a presented session key with the real one in constant time. */
export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

