import { describe, expect, test } from 'vitest';
import { createServer, type ServerOptions } from '../../src/server/index';
import type { WirefallError } from '../../src/index';

/*
 * createServer checks its options before anything starts. Before, a string heartbeat (an
 * environment variable) went out in every welcome and every client refused it as a protocol
 * error and reconnected for ever; a 30-day sessionTtlMs (over a timer's 2³¹−1 ms) ended each
 * session at its first disconnect; a heartbeat of 0 made every client's liveness fail at once.
 */
const quiet = { warn: () => {} };
const refused = (o: Record<string, unknown>): WirefallError => {
  try {
    createServer({ logger: quiet, ...o } as ServerOptions);
  } catch (e) {
    return e as WirefallError;
  }
  throw new Error(`accepted ${JSON.stringify(o)}`);
};

describe('createServer refuses options that cannot work, with WF_INVALID naming the option', () => {
  test.each([
    [{ heartbeatMs: '5000' }, 'heartbeatMs must be a whole number from 10 to 2147483647; got the string "5000"'],
    [{ heartbeatMs: 0 }, 'heartbeatMs'],
    [{ heartbeatMs: Number.NaN }, 'got NaN'],
    [{ sessionTtlMs: 30 * 24 * 3600 * 1000 }, 'sessionTtlMs must be a whole number from 0 to 2147483647'],
    [{ helloTimeoutMs: -1 }, 'helloTimeoutMs'],
    [{ authTimeoutMs: 1.5 }, 'authTimeoutMs'],
    [{ storeGraceMs: Infinity }, 'storeGraceMs'],
    [{ headersTimeoutMs: null }, 'headersTimeoutMs'],
    [{ bodyTimeoutMs: 0 }, 'bodyTimeoutMs'],
    [{ logRepeatMs: '0' }, 'logRepeatMs'],
    [{ maxMessageBytes: 0 }, 'maxMessageBytes must be a whole number from 1'],
    [{ maxBufferedBytes: '4mb' }, 'maxBufferedBytes'],
    [{ replay: { maxMessages: -5 } }, 'replay.maxMessages'],
    [{ replay: { maxBytes: 1e300 } }, 'replay.maxBytes'],
    [{ rateLimit: { session: { perSecond: 0, burst: 10 } } }, 'rateLimit.session.perSecond must be a number above 0; got 0'],
    [{ rateLimit: { ip: { perSecond: 5 } } }, 'rateLimit.ip.burst'],
    [{ rateLimit: { ip: true } }, 'rateLimit.ip must be { perSecond, burst }, or false'],
    [{ path: 'wirefall' }, 'path must be a path that starts with "/"'],
    [{ path: '/wf?x=1' }, 'path'],
    [{ logLevel: 'verbose' }, 'logLevel'],
    [{ allowedOrigins: 'https://app.example' }, 'allowedOrigins must be an array of origins'],
    [{ allowedOrigins: [new URL('https://app.example')] }, 'allowedOrigins'],
    [{ authenticate: 'token' }, 'authenticate must be a function'],
    [{ identify: {} }, 'identify must be a function; got an object'],
    [{ logger: console.log }, 'logger must be an object with a warn method'],
  ])('%j', (o, words) => {
    const e = refused(o);
    expect(e.code).toBe('WF_INVALID');
    expect(e.message).toContain(words);
    expect(e.message).toMatch(/^createServer: /);
  });

  test('what the docs and the tests use passes: defaults, undefined, the smallest values, false limits', async () => {
    const servers = [
      createServer({ logger: quiet }),
      createServer({ logger: quiet, heartbeatMs: undefined, path: undefined, rateLimit: { session: false, ip: undefined } }),
      createServer({ logger: quiet, heartbeatMs: 10, maxMessageBytes: 1, maxBufferedBytes: 16, sessionTtlMs: 0, helloTimeoutMs: 1, logRepeatMs: 0, path: '/', allowedOrigins: (o) => o === 'x', logLevel: 'silent' }),
      createServer({ logger: quiet, sessionTtlMs: 2 ** 31 - 1, rateLimit: { ip: { perSecond: 0.5, burst: 1 } }, allowedOrigins: [], identify: (u) => String(u) }),
    ];
    for (const s of servers) await s.close();
    expect(servers).toHaveLength(4);
  });
});
