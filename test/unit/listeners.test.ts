import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { connect, type WirefallError } from '../../src/index';
import type { Chat } from '../support/harness';
import { fakeTransports } from '../support/fake-transport';
import { mapStorage } from '../support/map-storage';

// Listeners are the app's code: whatever they throw is reported as an `error` (WF_INVALID) and
// changes nothing about the connection; and they hear of a transition only once it is complete.

function setup(opts: Parameters<typeof connect>[1] = {}) {
  const t = fakeTransports();
  const errors: WirefallError[] = [];
  const c = connect<Chat>('http://h.test/wf', {
    transports: ['ws'],
    transportFactories: { ws: t.factory },
    reconnect: { base: 10, max: 10 },
    platform: { storage: mapStorage(), random: () => 0.5, onWake: () => () => {} },
    ...opts,
  });
  c.on('error', (e) => errors.push(e));
  return { c, t, errors };
}

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe('defect 2: a state listener that throws on open', () => {
  test('does not leave the client open and blind: a server that goes silent after the welcome is found and left', async () => {
    const { c, t, errors } = setup();
    c.on('state', (s) => {
      if (s === 'open') throw new Error('app bug');
    });
    const first = t.last().greet();
    let threw: unknown;
    try {
      first.welcome();
    } catch (e) {
      threw = e; // where the old client let it escape, after leaving the link without timers
    }
    expect(c.state).toBe('open');
    // The server says nothing more: the heartbeat (5 s) goes unanswered for the 2 s deadline.
    await vi.advanceTimersByTimeAsync(7100);
    expect(errors.map((e) => e.code)).toContain('WF_STALLED');
    expect(first.closed).toBeDefined();
    await vi.advanceTimersByTimeAsync(10);
    expect(t.made).toHaveLength(2); // reconnecting, with a resume hello
    expect(JSON.parse(t.last().ctx.hello)).toMatchObject({ sid: 's1' });
    expect(threw).toBeUndefined();
    expect(errors[0]).toMatchObject({ code: 'WF_INVALID', message: 'a "state" listener threw' });
    expect((errors[0]!.cause as Error).message).toBe('app bug');
    c.close();
  });

  test('the pings and the claim go out as usual', async () => {
    const { c, t } = setup();
    c.on('state', () => {
      throw new Error('app bug');
    });
    t.last().greet().welcome();
    await vi.advanceTimersByTimeAsync(0);
    expect(t.last().frames).toContainEqual({ t: 'ack', a: 0 }); // speaks first: claims the session
    await vi.advanceTimersByTimeAsync(5000);
    expect(t.last().frames).toContainEqual({ t: 'ping', n: 1 });
    c.close();
  });
});

describe('isolated listeners', () => {
  test('every listener still hears the event when one before it throws', () => {
    const { c, t } = setup();
    const heard: string[] = [];
    c.on('state', () => {
      throw new Error('first');
    });
    c.on('state', (s) => void heard.push(s));
    t.last().greet().welcome();
    expect(heard).toEqual(['open']);
    c.close();
    expect(heard).toEqual(['open', 'closed']);
  });

  test('an error listener that throws neither recurses nor breaks anything', async () => {
    const { c, t, errors } = setup();
    let calls = 0;
    c.on('error', () => {
      calls++;
      throw new Error('error listener bug');
    });
    c.on('state', () => {
      throw new Error('state listener bug');
    });
    expect(() => t.last().greet().welcome()).not.toThrow();
    expect(calls).toBe(1); // told once of the state listener's throw, and not of its own
    expect(errors.map((e) => e.code)).toEqual(['WF_INVALID']); // the other error listener still heard it
    const p = c.send('say', { text: 'still works' });
    await vi.advanceTimersByTimeAsync(0);
    t.last().receive({ t: 'ack', a: 1 });
    await expect(p).resolves.toBeUndefined();
    c.close();
  });

  test('sessionlost and backpressure listeners that throw are reported too', async () => {
    const { c, t, errors } = setup({ outbox: { highWaterBytes: 10 } });
    c.on('backpressure', () => {
      throw new Error('bp');
    });
    c.on('sessionlost', () => {
      throw new Error('sl');
    });
    t.last().greet().welcome();
    void c.send('say', { text: 'more than ten bytes' }).catch(() => {});
    expect(errors.map((e) => e.message)).toEqual(['a "backpressure" listener threw']);
    t.last().fail({ code: 'WF_DISCONNECTED', message: 'cut' });
    await vi.advanceTimersByTimeAsync(10);
    t.last().greet().welcome({ sid: 's2', resumed: false });
    expect(errors.map((e) => e.code)).toEqual(['WF_INVALID', 'WF_DISCONNECTED', 'WF_SESSION_LOST', 'WF_INVALID']);
    expect(errors.at(-1)!.message).toBe('a "sessionlost" listener threw');
    c.close();
  });
});

describe('listeners hear of a transition once it is complete', () => {
  test('on open, the client is open on its rung and sends at once', async () => {
    const { c, t } = setup();
    const seen: unknown[] = [];
    c.on('state', (s, r) => {
      seen.push([s, r, c.state, c.rung]);
      if (s === 'open') void c.send('say', { text: 'hi' });
    });
    t.last().greet().welcome();
    expect(seen).toEqual([['open', 'ws', 'open', 'ws']]);
    await vi.advanceTimersByTimeAsync(0);
    expect(t.last().frames.filter((f) => f.t === 'msg')).toEqual([{ t: 'msg', s: 1, ev: 'say', d: { text: 'hi' } }]);
    c.close();
  });

  test('close() from an open listener ends the client cleanly', async () => {
    const { c, t } = setup();
    const states: string[] = [];
    c.on('state', (s) => {
      states.push(s);
      if (s === 'open') c.close();
    });
    t.last().greet().welcome();
    expect(states).toEqual(['open', 'closed']);
    expect(c.state).toBe('closed');
    expect(t.last().closed?.code).toBe(1000);
    expect(vi.getTimerCount()).toBe(0);
  });
});
