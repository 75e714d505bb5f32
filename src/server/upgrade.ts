import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import type { AddressLimiter } from './limits';
import type { ResolvedServerOptions, ServerOptions } from './options';
import { originAllowed, REFUSAL_HEADER } from './policy';

/** What the endpoint's WebSocket door needs of its server. */
export interface UpgradeDoor {
  server: HttpServer | HttpsServer;
  opts: ResolvedServerOptions;
  allowed: ServerOptions['allowedOrigins'];
  /** Connections opened per remote address (`rateLimit.ip`), on every rung. */
  opens: AddressLimiter;
  /** The WebSocket rung, which takes an upgrade admitted here. */
  rung: { upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, secure: boolean): void };
  secure: boolean;
  /** The request is for this endpoint's path. */
  matches(req: IncomingMessage): boolean;
  /** The server is closing: new connections are refused (503). */
  closing(): boolean;
}

/**
 * The server's `upgrade` listener: an upgrade for this endpoint is admitted (path, closing,
 * origin, rate limit, in that order) and handed to the WebSocket rung, or refused with its status
 * and the socket closed; one for another path is left to the app's listeners, if it has any.
 */
export function upgradeHandler(d: UpgradeDoor): (req: IncomingMessage, socket: Duplex, head: Buffer) => void {
  const { opts } = d;
  return (req, socket, head) => {
    if (!d.matches(req)) {
      // Another endpoint's upgrade, if the server has another listener for it; else nobody
      // would ever answer it, nor close its socket (Node hands an upgrade's socket over whole).
      if (d.server.listenerCount('upgrade') !== 1) return;
      socket.on('error', destroy);
      return refuseUpgrade(socket, '404 Not Found');
    }
    socket.on('error', destroy);
    if (d.closing()) return refuseUpgrade(socket, '503 Service Unavailable', 'Retry-After: 1\r\n');
    // An 'upgrade' listener that throws takes the process down: nothing here may.
    try {
      if (!originAllowed(req, d.allowed, opts.logger)) {
        opts.logger.warn('refused a WebSocket upgrade from a foreign origin', { origin: req.headers.origin });
        opts.metrics?.refused('forbidden_origin');
        return refuseUpgrade(socket, '403 Forbidden', `${REFUSAL_HEADER}: origin\r\n`);
      }
      if (!d.opens.allow(req.socket.remoteAddress)) {
        opts.logger.warn('refused a WebSocket upgrade: too many connections from one address', { remote: req.socket.remoteAddress });
        opts.metrics?.refused('rate_limited');
        return refuseUpgrade(socket, '429 Too Many Requests', `${REFUSAL_HEADER}: rate_limited\r\nRetry-After: 1\r\n`);
      }
      d.rung.upgrade(req, socket, head, d.secure);
    } catch (err) {
      opts.logger.warn(`a WebSocket upgrade failed: ${String(err)}`);
      socket.destroy();
    }
  };
}

/** A socket's error, or its refusal written, ends it (`this` is the socket: one function for all). */
function destroy(this: Duplex): void {
  this.destroy();
}

/**
 * Answers an upgrade with `status` and closes the socket once the answer is written (its error
 * listener is the caller's). Ending only our half left it open for as long as the client kept its
 * own (HTTP sockets are half-open), so each refusal, those over the rate limit included, could
 * hold a file descriptor for ever.
 */
function refuseUpgrade(socket: Duplex, status: string, headers = ''): void {
  socket.once('finish', destroy);
  socket.end(`HTTP/1.1 ${status}\r\n${headers}Connection: close\r\nContent-Length: 0\r\n\r\n`);
}
