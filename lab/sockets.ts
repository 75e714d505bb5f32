import type net from 'node:net';

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
