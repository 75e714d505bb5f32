/**
 * Soak: one metrics object outlives the servers it counts (an app that restarts its endpoint in
 * process, a test suite). A closed server must not stay reachable from it.
 */
import { afterEach, expect, it } from 'vitest';
import { serverMetrics, type ServerMetrics } from '../../src/server/metrics';
import { createServer } from '../../src/server/index';
import { cleanup, client, claimed, quiet, until } from '../support/harness';
import { alive, collected } from '../support/gc';

afterEach(cleanup);

/** A server that had a session, closed: only a weak reference to it is left here. */
async function served(metrics: ServerMetrics): Promise<WeakRef<object>> {
  const server = createServer({ logger: quiet, metrics });
  const port = await server.listen(0);
  const c = client(`http://127.0.0.1:${port}/wirefall`, { reconnect: false });
  await claimed(server, 1, 10_000);
  c.close();
  await server.close();
  return new WeakRef(server);
}

it('servers created and closed on one metrics object are collected; the survivor is still counted', async () => {
  const metrics = serverMetrics();
  const refs: WeakRef<object>[] = [];
  for (let i = 0; i < 20; i++) refs.push(await served(metrics));
  // Before the fix every one of them stayed (20 of 20).
  if (!(await collected(refs))) expect(alive(refs)).toBe(0);
  // A server still open is read as before.
  const last = createServer({ logger: quiet, metrics });
  const port = await last.listen(0);
  const c = client(`http://127.0.0.1:${port}/wirefall`);
  await until(c, 'open', 10_000);
  await claimed(last, 1, 10_000);
  expect(await metrics.registry.getSingleMetricAsString('wirefall_sessions')).toMatch(/rung="ws"} 1/);
  c.close();
  await last.close();
});
