import { afterEach, beforeEach, expect, test, vi } from 'vitest';
import { connect, probe, type WirefallError } from '../../src/index';
import type { TransportFactory } from '../../src/transports/transport';
import type { Chat } from '../support/harness';
import { fakeTransports } from '../support/fake-transport';
import { mapStorage } from '../support/map-storage';

// Custom `transportFactories` are public API: whatever one does while starting fails that
// attempt only, with a reason, and the race goes on down the ladder.

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

// A fresh storage each time: the rung memory must not carry over between tests.
const platform = () => ({ storage: mapStorage(), random: () => 0.5, onWake: () => () => {} });

test('a factory that throws fails its attempt with WF_TRANSPORT, and the next rung carries on', async () => {
  const t = fakeTransports();
  const boom: TransportFactory = () => {
    throw new TypeError('no socket for you');
  };
  const errors: WirefallError[] = [];
  const c = connect<Chat>('http://h.test/wf', { transports: ['ws', 'sse'], transportFactories: { ws: boom, sse: t.factory }, platform: platform() });
  c.on('error', (e) => errors.push(e));
  expect(t.made.map((x) => x.rung)).toEqual(['sse']); // started at once, not after the stagger
  t.last().greet().welcome();
  expect(c.state).toBe('open');
  expect(c.rung).toBe('sse');
  expect(c.attempts.map((a) => [a.rung, a.outcome, a.reason])).toEqual([
    ['ws', 'failed', 'WF_TRANSPORT'],
    ['sse', 'verified', undefined],
  ]);
  expect(errors).toEqual([]);
  await vi.advanceTimersByTimeAsync(1000);
  expect(t.made).toHaveLength(1); // no stray stagger timer started a third attempt
  c.close();
});

test('when the only factory throws, the client reports WF_TRANSPORT and retries with backoff', async () => {
  let calls = 0;
  const boom: TransportFactory = () => {
    calls++;
    throw new Error('broken');
  };
  const errors: WirefallError[] = [];
  const c = connect<Chat>('http://h.test/wf', { transports: ['ws'], transportFactories: { ws: boom }, reconnect: { base: 100, max: 100 }, platform: platform() });
  c.on('error', (e) => errors.push(e));
  // The first race ended inside connect(), before a listener could be attached: its record says why.
  expect(c.attempts).toMatchObject([{ rung: 'ws', outcome: 'failed', reason: 'WF_TRANSPORT' }]);
  expect(c.state).toBe('connecting');
  await vi.advanceTimersByTimeAsync(50); // random 0.5 × 100
  expect(calls).toBe(2);
  expect(errors[0]).toMatchObject({ code: 'WF_TRANSPORT', rung: 'ws', retryable: true });
  expect((errors[0]!.cause as Error).message).toBe('broken');
  c.close();
  expect(vi.getTimerCount()).toBe(0);
});

test('a factory whose transport fails before the factory returns fails that attempt cleanly', async () => {
  const t = fakeTransports();
  const closed: (number | undefined)[] = [];
  const early: TransportFactory = (ctx) => {
    ctx.events.close({ code: 'WF_NETWORK', message: 'refused at once' });
    return { send: () => {}, close: (code) => void closed.push(code) };
  };
  const c = connect<Chat>('http://h.test/wf', { transports: ['ws', 'sse'], transportFactories: { ws: early, sse: t.factory }, platform: platform() });
  expect(t.made.map((x) => x.rung)).toEqual(['sse']);
  t.last().greet().welcome();
  expect(c.rung).toBe('sse');
  expect(c.attempts[0]).toMatchObject({ rung: 'ws', outcome: 'failed', reason: 'WF_NETWORK' });
  expect(closed).toHaveLength(1); // the transport it returned is closed, not leaked
  await vi.advanceTimersByTimeAsync(1000);
  expect(t.made).toHaveLength(1);
  c.close();
});

test('probe() reports a throwing factory as a failed rung', async () => {
  const report = probe('http://h.test/wf', {
    transports: ['ws'],
    transportFactories: { ws: () => { throw new Error('x'); } },
    platform: platform(),
  });
  await expect(report).resolves.toMatchObject({ best: null, rungs: [{ rung: 'ws', ok: false, reason: 'WF_TRANSPORT' }] });
});
