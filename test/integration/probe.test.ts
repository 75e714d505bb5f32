import { afterEach, expect, test } from 'vitest';
import WebSocket from 'ws';
import { probe } from '../../src/index';
import { startLab } from '../../lab';
import { cleanup, eventually, startServer, track } from '../support/harness';

afterEach(cleanup);

async function setup(scenario: Parameters<typeof startLab>[0]['scenario']) {
  const { server, port } = await startServer();
  track(server);
  const lab = track(await startLab({ upstream: { host: '127.0.0.1', port }, scenario }));
  return { server, lab, url: `${lab.url}/wirefall` };
}

test('probe() tries every rung on its own and reports which work, with reasons and timings', async () => {
  const { server, url } = await setup({ kind: 'drop-frames' });
  // openTimeout applies to every rung: 600 ms failed SSE too on a loaded machine (best: null).
  const report = await probe(url, { WebSocket: WebSocket as never, transports: ['ws', 'sse', 'longpoll'], openTimeout: 2500 });
  expect(report.rungs.map((r) => [r.rung, r.ok, r.reason])).toEqual([
    ['ws', false, 'WF_NO_DATA'],
    ['sse', true, undefined],
    ['longpoll', true, undefined],
  ]);
  expect(report.best).toBe('sse');
  // WebSocket waited its whole timeout for data; SSE verified without one.
  expect(report.rungs[0]!.duration).toBeGreaterThanOrEqual(2490);
  expect(report.rungs[1]!.duration).toBeLessThan(2490);
  // Each working rung's session is closed at once: nothing lingers on the server.
  await eventually(() => [...server.connections].length === 0, 3000, 'probe sessions to end');
});

test('probe() on a clean network: every rung works, best is the top one', async () => {
  const { url } = await setup({ kind: 'pass' });
  const report = await probe(url, { WebSocket: WebSocket as never, transports: ['ws', 'sse', 'longpoll'] });
  expect(report.best).toBe('ws');
  expect(report.rungs.every((r) => r.ok)).toBe(true);
});

test('probe() behind a proxy demanding authentication: no rung works, and it says 407 where it can see it', async () => {
  const { url } = await setup({ kind: 'proxy-auth' });
  const report = await probe(url, { WebSocket: WebSocket as never, transports: ['ws', 'sse', 'longpoll'] });
  expect(report.best).toBeNull();
  expect(report.rungs[0]).toMatchObject({ rung: 'ws', ok: false, reason: 'WF_PROXY_AUTH', status: 407 });
});
