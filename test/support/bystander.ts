import { expect } from 'vitest';
import type { ServerOptions, WirefallServer } from '../../src/server/index';
import type { Chat } from './harness';
import { client, eventually, startServer, track, until } from './harness';
import type { RungName } from '../../src/protocol/api';
import type { ClientOptions } from '../../src/index';

/** A logger that keeps what it is told, for assertions on what was reported (and how often). */
export function recorder() {
  const lines: { message: string; context?: Record<string, unknown> }[] = [];
  return { lines, logger: { warn: (message: string, context?: Record<string, unknown>) => void lines.push({ message, context }) } };
}

/** A server on 127.0.0.1 whose log lines are kept (`lines`), closed by `cleanup()`. */
export async function serve(opts: ServerOptions = {}) {
  const rec = recorder();
  const s = await startServer({ logger: rec.logger, ...opts });
  track(s.server);
  return { ...s, ...rec };
}

/**
 * A real client beside an attack. `echo` on the server answers `echoed`; `check()` sends a fresh
 * run of numbers and demands each back once and in order, on the connection it opened with.
 */
export async function bystander(server: WirefallServer<Chat>, url: string, rung: RungName = 'ws', opts: ClientOptions = {}) {
  server.on('connection', (conn) => conn.subscribe('echo', (d) => void conn.send('echoed', d).catch(() => {})));
  const c = client(url, { transports: [rung], ...opts });
  const got: number[] = [];
  c.subscribe('echoed', (d) => void got.push(d.n));
  await until(c, 'open');
  let next = 0;
  return {
    client: c,
    /**
     * `steady` false: the bystander may have reconnected (a test whose server beats every 0.5-1 s,
     * so that links end quickly, can see a loaded machine's stall judged a dead link); its
     * messages must still come back once and in order.
     */
    async check(n = 20, steady = true) {
      const from = next;
      next += n;
      for (let i = from; i < next; i++) void c.send('echo', { n: i });
      await eventually(() => got.length >= next, 10_000, `bystander echoes up to ${next}`);
      expect(got).toEqual(Array.from({ length: next }, (_, i) => i));
      if (steady) expect(c.attempts.filter((a) => a.outcome === 'verified')).toHaveLength(1);
    },
  };
}
