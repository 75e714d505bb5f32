import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import WebSocket from 'ws';
import { afterEach, expect, test } from 'vitest';
import { connect, type Client } from '../../src/index';
import { resolveTimings } from '../../src/core/options';

/*
 * Client options were taken as given: a string `reconnect.base` (an environment variable) made a
 * NaN delay, which a timer runs at once, so a client of a server that is down reconnected as fast
 * as the refusals came, for ever. A NaN `answerDeadline` armed the liveness timer at once, over
 * and over; a string one was concatenated. The client's durations and bounds are now numbers
 * above 0 (a numeric string counts as its number), else their defaults, in both builds; the
 * default build warns, naming the option.
 */

const opened: Client[] = [];
afterEach(() => opened.splice(0).forEach((c) => c.close()));

test('numeric options that are not numbers above 0 fall back to their defaults, and the default build names each one', () => {
  const warned: string[] = [];
  const t = resolveTimings({
    logger: { warn: (m) => warned.push(m) },
    openTimeout: 0,
    welcomeTimeout: -5,
    answerDeadline: Number.NaN,
    reconnect: { base: 'x' as never, max: '1000' as never },
    outbox: { maxMessages: null as never, maxBytes: {} as never, highWaterBytes: 4096 },
    upgradeProbe: { first: '' as never },
  });
  expect(t).toMatchObject({
    openTimeout: 5000,
    welcomeTimeout: 15000,
    answerDeadline: 2000,
    backoff: { base: 250, max: 1000 },
    maxMessages: 10000,
    maxBytes: 8 * 1024 * 1024,
    highWaterBytes: 4096,
    climb: { first: 3000, max: 300_000 },
  });
  // Each wrong one is named (a numeric string works, and is still named: its type is wrong).
  const names = ['openTimeout', 'welcomeTimeout', 'answerDeadline', 'reconnect.base', 'reconnect.max', 'outbox.maxMessages', 'outbox.maxBytes', 'upgradeProbe.first'];
  expect(warned).toHaveLength(names.length);
  names.forEach((name, i) => expect(warned[i]).toContain(`connect: ${name} must be a number above 0`));
  // Right ones, and absent ones, say nothing.
  warned.length = 0;
  expect(resolveTimings({ logger: { warn: (m) => warned.push(m) }, answerDeadline: 500, reconnect: { base: 10 } })).toMatchObject({ answerDeadline: 500, backoff: { base: 10, max: 30000 } });
  expect(warned).toEqual([]);
});

test('a string reconnect.base does not make a client of a server that is down reconnect without backoff', async () => {
  // A port nobody listens on: every attempt is refused at once.
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const { port } = probe.address() as AddressInfo;
  await new Promise((r) => probe.close(r));
  const c = connect(`http://127.0.0.1:${port}/wirefall`, {
    WebSocket: WebSocket as never,
    transports: ['ws'],
    reconnect: { base: 'soon' as never },
    logger: { warn: () => {} },
  });
  opened.push(c);
  let attempts = 0;
  c.on('attempt', () => attempts++);
  await new Promise((r) => setTimeout(r, 1500));
  // The default backoff (up to 250 ms, 500 ms, 1 s, ... with full jitter) allows a handful in
  // 1.5 s; a NaN delay allowed hundreds.
  expect(attempts).toBeLessThanOrEqual(20);
  expect(attempts).toBeGreaterThan(0);
});
