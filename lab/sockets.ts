import net from 'node:net';
import tls from 'node:tls';
import type { LabOptions } from './proxy';

/**
 * The lab's connection to its upstream, TLS or not, half-open (the client's FIN is passed on
 * without closing the way back), without Nagle's delay (latency tests measure the lab's own).
 */
export function connectTo(upstream: LabOptions['upstream'], on: { data(c: Buffer): void; end(): void; close(): void }): net.Socket {
  const { host, port, tls: secure } = upstream;
  // allowHalfOpen reaches TLSSocket at runtime although @types/node does not list it.
  const opts = { host, port, allowHalfOpen: true };
  const up = secure
    ? tls.connect({ ...opts, servername: net.isIP(host) ? undefined : host, rejectUnauthorized: false } as tls.ConnectionOptions)
    : net.connect(opts);
  up.setNoDelay(true);
  up.on('data', on.data);
  up.on('end', on.end);
  up.on('error', () => {}); // refused or reset: 'close' follows, and the exchange answers for it
  up.on('close', on.close);
  return up;
}

/** Write with backpressure: a slow reader pauses the sender instead of growing the lab's memory. */
export function relay(dest: net.Socket, src: net.Socket | undefined, buf: Buffer): void {
  if (dest.destroyed || dest.writableEnded) return;
  if (!dest.write(buf) && src && !src.isPaused()) {
    src.pause();
    dest.once('drain', () => src.resume());
  }
}

/** TCP RST. A TLS socket has no reset of its own, so reset the TCP socket under it. */
export function resetSocket(socket: net.Socket): void {
  const raw = (socket as net.Socket & { _parent?: net.Socket })._parent ?? socket;
  try {
    raw.resetAndDestroy();
  } catch {
    raw.destroy();
  }
  socket.destroy();
}
