import { afterEach, describe, expect, test, vi } from 'vitest';
import WebSocket from 'ws';
import { startLab } from '../../lab';
import { connect, logClient } from '../../src/index';
import { cleanup, client, eventually, startServer, track, until } from '../support/harness';
import { mapStorage } from '../support/map-storage';

afterEach(() => {
  vi.restoreAllMocks();
  return cleanup();
});

/** A logger that records `level message` lines. */
function recorder() {
  const lines: string[] = [];
  const at = (level: string) => (m: string) => void lines.push(`${level} ${m.replace('[wirefall] ', '')}`);
  return { lines, logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } };
}

describe('client logger (logClient)', () => {
  test('says each attempt with its reason, the transitions, the climb back up, and the resume', async () => {
    const { server, port } = await startServer();
    track(server);
    const lab = track(await startLab({ upstream: { host: '127.0.0.1', port }, scenario: { kind: 'drop-frames' } }));
    const { lines, logger } = recorder();
    const c = client(`${lab.url}/wirefall`, {
      transports: ['ws', 'sse'], openTimeout: 300, upgradeProbe: { first: 200, max: 400 }, platform: { storage: mapStorage() }, reconnect: { base: 10, max: 20 },
    });
    logClient(c, logger); // at once after connect: the first race's attempts end later
    await until(c, 'open');
    lab.setScenario({ kind: 'pass' });
    await eventually(() => c.rung === 'ws', 5000, 'the climb to ws');
    lab.cutAll();
    await eventually(() => lines.some((l) => l.startsWith('info resumed the session on')), 5000, 'the resume');
    expect(lines).toContainEqual(expect.stringMatching(/^info attempt on sse verified after \d+ ms$/));
    expect(lines).toContainEqual(expect.stringMatching(/^(warn attempt on ws failed|info attempt on ws abandoned) after \d+ ms: WF_NO_DATA/));
    expect(lines).toContainEqual('info connecting → open on sse');
    expect(lines).toContainEqual('info moved from sse to ws (climbed)');
    expect(lines.some((l) => l.startsWith('debug'))).toBe(false); // the default level is info
  });

  test('a stall is a warning; logLevel filters', async () => {
    const { server, port } = await startServer({ heartbeatMs: 200 });
    track(server);
    const lab = track(await startLab({ upstream: { host: '127.0.0.1', port } }));
    const { lines, logger } = recorder();
    const c = client(`${lab.url}/wirefall`, { answerDeadline: 300, reconnect: { base: 10, max: 20 } });
    logClient(c, logger, 'warn');
    await until(c, 'open');
    lab.freezeAll(); // the live link goes silent both ways
    await eventually(() => lines.some((l) => l.startsWith('warn stalled on ws: WF_STALLED')), 5000, 'the stall warning');
    expect(lines.every((l) => l.startsWith('warn') || l.startsWith('error'))).toBe(true);
  });

  test('silent by default: nothing reaches the console', async () => {
    const { server, url } = await startServer();
    track(server);
    const spies = (['log', 'info', 'warn', 'error', 'debug'] as const).map((m) => vi.spyOn(console, m));
    const c = client(url);
    await until(c, 'open');
    c.close();
    for (const s of spies) expect(s).not.toHaveBeenCalled();
  });
});

describe('Node without a WebSocket implementation', () => {
  test('the ws rungs are skipped and said once, clearly; the client connects on SSE without ever trying them', async () => {
    const { server, url } = await startServer();
    track(server);
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const a = track(connect(url, { platform: { WebSocket: undefined, storage: mapStorage() } }));
    const b = track(connect(url, { platform: { WebSocket: undefined, storage: mapStorage() } }));
    await until(a, 'open');
    await until(b, 'open');
    expect(a.rung).toBe('sse');
    expect([...a.attempts, ...b.attempts].filter((x) => x.rung === 'wss' || x.rung === 'ws')).toEqual([]);
    // Once per process: the second client does not repeat it (an earlier test file may have said it already).
    expect(warn.mock.calls.length).toBeLessThanOrEqual(1);
    const { lines, logger } = recorder();
    track(connect(url, { logger, platform: { WebSocket: undefined, storage: mapStorage() } }));
    expect(lines).toContainEqual(expect.stringContaining("wss and ws rungs are skipped, SSE and long-polling remain. To use WebSocket, pass one: connect(url, { WebSocket: (await import('ws')).default })"));
    expect(() => connect(url, { transports: ['ws'], platform: { WebSocket: undefined } })).toThrow(/no WebSocket implementation here/);
    // With an implementation nothing is said, and WebSocket is used.
    const { lines: quiet, logger: l2 } = recorder();
    const d = track(connect(url, { WebSocket: WebSocket as never, transports: ['ws', 'sse'], logger: l2 }));
    await until(d, 'open');
    expect(d.rung).toBe('ws');
    expect(quiet).toEqual([]);
  });
});

describe('server log levels', () => {
  test('debug and info say sessions and links; the default (warn) keeps them quiet; a warn-only logger gets errors', async () => {
    const { lines, logger } = recorder();
    const { server, url } = await startServer({ logger, logLevel: 'debug' });
    track(server);
    const c = client(url);
    await until(c, 'open');
    await eventually(() => lines.some((l) => l.startsWith('info session started on ws')), 3000, 'the session line');
    c.close();
    await eventually(() => lines.some((l) => l === 'info session ended: client closed'), 3000, 'the end line');
    expect(lines).toContain('debug session linked to ws');

    const quiet = recorder();
    const s2 = await startServer({ logger: quiet.logger });
    track(s2.server);
    const c2 = client(s2.url);
    await until(c2, 'open');
    c2.close();
    await new Promise((r) => setTimeout(r, 100));
    expect(quiet.lines.filter((l) => l.startsWith('info') || l.startsWith('debug'))).toEqual([]);

    const warned: string[] = [];
    const s3 = await startServer<{ client: {}; server: {}; rpc: { boom: [null, null] } }>({ logger: { warn: (m) => warned.push(m) } });
    track(s3.server);
    s3.server.on('connection', (conn) => conn.handle('boom', () => { throw new Error('kaput'); }));
    const c3 = client<{ client: {}; server: {}; rpc: { boom: [null, null] } }>(s3.url);
    await expect(c3.request('boom', null)).rejects.toMatchObject({ remoteCode: 'handler_failed' });
    expect(warned.some((m) => m.includes('kaput'))).toBe(true);
  });

  test('a resume that finds no session says why at info (its client hears sessionlost)', async () => {
    const { lines, logger } = recorder();
    const { server, url } = await startServer({ logger, logLevel: 'info' });
    track(server);
    const ws = track(new WebSocket(url.replace('http', 'ws')));
    ws.on('error', () => {});
    await new Promise((r) => ws.once('open', r));
    ws.send(JSON.stringify({ t: 'hello', v: 3, sid: 'gone-session', key: 'k'.repeat(24), ack: 0 }));
    await eventually(() => lines.some((l) => l.startsWith('info a resume found no session')), 3000, 'the line');
    expect(lines).toContain('info a resume found no session: a new one (not on this node)');
  });
});

