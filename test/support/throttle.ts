import { createServer, connect as tcpConnect, type Socket } from 'node:net';

/**
 * A TCP proxy on 127.0.0.1 whose client → server direction carries at most `bytesPerSecond`
 * (a slow uplink: a phone's, a satellite's); the other direction is not limited. The client's
 * socket is paused while the proxy holds more than a tick's worth, so the backlog stays in the
 * client's own buffers (`bufferedAmount`), as on a real slow link.
 */
export async function startThrottle(upstreamPort: number, bytesPerSecond: number) {
  const TICK = 20;
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = tcpConnect(upstreamPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    const queue: Buffer[] = [];
    let held = 0;
    const budget = Math.max(1, Math.round((bytesPerSecond * TICK) / 1000));
    const timer = setInterval(() => {
      for (let left = budget; left > 0 && queue.length; ) {
        const b = queue[0]!;
        const part = b.subarray(0, left);
        upstream.write(part);
        left -= part.length;
        held -= part.length;
        if (part.length === b.length) queue.shift();
        else queue[0] = b.subarray(part.length);
      }
      if (held < budget) client.resume();
    }, TICK);
    client.on('data', (b) => {
      queue.push(b);
      held += b.length;
      if (held >= budget) client.pause();
    });
    upstream.on('data', (b) => client.write(b));
    const end = () => {
      clearInterval(timer);
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    close: () => new Promise<void>((r) => {
      for (const s of sockets) s.destroy();
      server.close(() => r());
    }),
  };
}
