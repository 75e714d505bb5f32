import { connect, createServer, type Socket } from 'node:net';

/**
 * A plain round-robin TCP balancer on 127.0.0.1, as a cloud L4 balancer without stickiness: each
 * new TCP connection goes to the next node of `targets()` (ports, read at every connection, so a
 * test can swap a restarted node in). A node that refuses is skipped, as a health check would.
 */
export interface Balancer {
  readonly port: number;
  readonly url: string;
  /** Connections made, per target port. */
  readonly counts: Map<number, number>;
  close(): Promise<void>;
}

export async function startBalancer(targets: () => number[], { port: listenPort = 0, host = '127.0.0.1' }: { port?: number; host?: string } = {}): Promise<Balancer> {
  let next = 0;
  const sockets = new Set<Socket>();
  const counts = new Map<number, number>();
  const track = (s: Socket) => (sockets.add(s), s.once('close', () => sockets.delete(s)));
  // No Nagle on either side, as HAProxy and nginx's stream module by default: a proxy that holds
  // a small segment back until the last one is acknowledged adds up to 40 ms (the peer's delayed
  // ACK) to any answer that reaches it in two pieces.
  const server = createServer({ noDelay: true }, (client) => {
    track(client);
    client.pause();
    client.on('error', () => client.destroy());
    const ports = targets();
    const attempt = (left: number) => {
      if (left === 0 || client.destroyed) return void client.destroy();
      const port = ports[next++ % ports.length]!;
      const upstream = connect({ port, host: '127.0.0.1', noDelay: true });
      track(upstream);
      // Refused (the node is down or restarting): the next node, as a health check would.
      upstream.once('error', () => (upstream.destroy(), attempt(left - 1)));
      upstream.once('connect', () => {
        counts.set(port, (counts.get(port) ?? 0) + 1);
        upstream.removeAllListeners('error');
        upstream.on('error', () => client.destroy());
        client.on('close', () => upstream.destroy());
        upstream.on('close', () => client.destroy());
        client.pipe(upstream);
        upstream.pipe(client);
        client.resume();
      });
    };
    attempt(ports.length);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listenPort, host, () => (server.off('error', reject), resolve()));
  });
  const port = (server.address() as { port: number }).port;
  return {
    port,
    url: `http://${host}:${port}/wirefall`,
    counts,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
