import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { connect, type WirefallError } from '../../src/index';
import { fakeTransports } from '../support/fake-transport';
import { mapStorage } from '../support/map-storage';

type Api = { client: { say: { text: string } }; server: {}; rpc: { add: [[number, number], number] } };

function setup(opts: Parameters<typeof connect>[1] = {}) {
  const t = fakeTransports();
  const errors: WirefallError[] = [];
  const c = connect<Api>('http://h.test/wf', {
    transports: ['ws'],
    transportFactories: { ws: t.factory },
    platform: { storage: mapStorage(), random: () => 0.5, onWake: () => () => {} },
    ...opts,
  });
  c.on('error', (e) => errors.push(e));
  return { c, t, errors };
}

beforeEach(() => void vi.useFakeTimers());
afterEach(() => void vi.useRealTimers());

describe('async credentials (fake clock)', () => {
  test('the race waits for the auth promise, and the hello carries what it resolved to', async () => {
    let resolve!: (t: string) => void;
    const { c, t } = setup({ auth: () => new Promise<string>((r) => (resolve = r)) });
    await vi.advanceTimersByTimeAsync(10_000); // no open timeout runs while the token is fetched
    expect(t.made).toHaveLength(0);
    expect(c.state).toBe('connecting');
    resolve('tok');
    await vi.advanceTimersByTimeAsync(0);
    expect(t.made).toHaveLength(1);
    expect(t.last().frames[0]).toMatchObject({ t: 'hello', auth: 'tok' });
    c.close();
  });

  test('a token that never comes fails the race with WF_AUTH after the welcome timeout, and the client tries again', async () => {
    let calls = 0;
    const { c, t, errors } = setup({ welcomeTimeout: 3000, auth: () => (++calls === 1 ? new Promise<string>(() => {}) : Promise.resolve('tok')) });
    await vi.advanceTimersByTimeAsync(3000);
    expect(errors[0]).toMatchObject({ code: 'WF_AUTH', message: 'the auth callback did not answer within 3000 ms' });
    await vi.advanceTimersByTimeAsync(1000);
    expect(calls).toBe(2);
    expect(t.made).toHaveLength(1);
    c.close();
  });

  test('close() while the token is being fetched: no connection is attempted afterwards, and no timer is left', async () => {
    let resolve!: (t: string) => void;
    const { c, t } = setup({ auth: () => new Promise<string>((r) => (resolve = r)) });
    c.close();
    // The token's deadline (welcomeTimeout, 15 s) stops too: a Node process would wait for it.
    expect(vi.getTimerCount()).toBe(0);
    resolve('tok');
    await vi.advanceTimersByTimeAsync(1000);
    expect(t.made).toHaveLength(0);
    expect(c.state).toBe('closed');
  });

  test('a sync auth function that throws is WF_AUTH and retried, not a crash of the client', async () => {
    let n = 0;
    const { c, t, errors } = setup({ auth: () => { if (++n === 1) throw new Error('no token yet'); return 'tok'; } });
    await vi.advanceTimersByTimeAsync(0);
    expect(errors[0]).toMatchObject({ code: 'WF_AUTH', retryable: true });
    await vi.advanceTimersByTimeAsync(1000);
    expect(t.made).toHaveLength(1);
    expect(t.last().frames[0]).toMatchObject({ auth: 'tok' });
    c.close();
  });
});

describe('requests (fake clock)', () => {
  test('timeout: Infinity never times out (a timer past 2^31 - 1 ms would fire at once)', async () => {
    const { c, t } = setup();
    t.last().greet().welcome();
    let outcome = 'pending';
    c.request('add', [1, 2], { timeout: Infinity }).then(() => (outcome = 'replied'), (e: WirefallError) => (outcome = e.code));
    await vi.advanceTimersByTimeAsync(60_000);
    expect(outcome).toBe('pending');
    c.close();
    await vi.advanceTimersByTimeAsync(0);
    expect(outcome).toBe('WF_CLOSED');
  });

  test('a timeout rejects with WF_TIMEOUT; a late reply is dropped; a reply matches its call by id', async () => {
    const { c, t } = setup();
    t.last().greet().welcome();
    const late = c.request('add', [1, 2], { timeout: 1000 }).catch((e: WirefallError) => e);
    const onTime = c.request('add', [3, 4]);
    await vi.advanceTimersByTimeAsync(0);
    const calls = t.last().frames.filter((f) => f.t === 'msg');
    expect(calls.map((f) => [f.ev, f.d])).toEqual([['$call', { id: 1, m: 'add', a: [1, 2] }], ['$call', { id: 2, m: 'add', a: [3, 4] }]]);
    await vi.advanceTimersByTimeAsync(1000);
    expect(await late).toMatchObject({ code: 'WF_TIMEOUT' });
    t.last().receive({ t: 'ack', a: 2 }, { t: 'msg', s: 1, ev: '$reply', d: { id: 1, r: 3 } }, { t: 'msg', s: 2, ev: '$reply', d: { id: 2, r: 7 } });
    expect(await onTime).toBe(7);
    c.close();
  });

  test('the app\'s error comes back with its code; a session lost after the ack rejects with WF_SESSION_LOST', async () => {
    const { c, t } = setup();
    t.last().greet().welcome();
    const failed = c.request('add', [1, 1]).catch((e: WirefallError) => e);
    const lost = c.request('add', [2, 2]).catch((e: WirefallError) => e);
    await vi.advanceTimersByTimeAsync(0);
    t.last().receive({ t: 'ack', a: 2 }, { t: 'msg', s: 1, ev: '$reply', d: { id: 1, err: { code: 'overflow', message: 'too big' } } });
    expect(await failed).toMatchObject({ code: 'WF_REQUEST_FAILED', remoteCode: 'overflow', message: 'too big', retryable: false });
    const written = c.request('add', [3, 3]).catch((e: WirefallError) => e); // written, never acknowledged
    await vi.advanceTimersByTimeAsync(0);
    t.last().fail({ code: 'WF_DISCONNECTED', message: 'cut' });
    const unsent = c.request('add', [5, 5]); // queued while away: never written on the old session
    const undelivered: unknown[] = [];
    c.on('sessionlost', (u) => undelivered.push(...u));
    await vi.advanceTimersByTimeAsync(1000);
    t.last().greet().welcome({ sid: 's2', resumed: false }); // the server forgot the session
    expect(await lost).toMatchObject({ code: 'WF_SESSION_LOST' }); // acked: its handler may have run
    expect(await written).toMatchObject({ code: 'WF_SESSION_LOST' }); // may or may not have arrived
    expect(undelivered).toEqual([]); // calls are the protocol's: their requests say it, not sessionlost
    // The unsent call goes out on the new session, renumbered, and is answered there.
    await vi.advanceTimersByTimeAsync(0);
    expect(t.last().frames.filter((f) => f.t === 'msg').map((f) => [f.s, f.d])).toEqual([[1, { id: 4, m: 'add', a: [5, 5] }]]);
    t.last().receive({ t: 'ack', a: 1 }, { t: 'msg', s: 1, ev: '$reply', d: { id: 4, r: 10 } });
    expect(await unsent).toBe(10);
    c.close();
  });
});
