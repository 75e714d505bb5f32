import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { connect } from '../../src/index';
import type { Chat } from '../support/harness';
import { fakeTransports } from '../support/fake-transport';
import { mapStorage } from '../support/map-storage';

let wake: ((r: 'online' | 'visible') => void) | undefined;

function setup(storage = mapStorage(), opts: Parameters<typeof connect>[1] = {}) {
  const t = fakeTransports();
  const states: string[] = [];
  const c = connect<Chat>('http://h.test/wf', {
    earlyFallback: false, // the sequential ladder; the early HTTP rung is tested in race.test.ts
    transports: ['ws', 'sse', 'longpoll'],
    transportFactories: { ws: t.factory, sse: t.factory, longpoll: t.factory },
    reconnect: { base: 10, max: 10 },
    platform: { storage, random: () => 0.5, onWake: (l) => ((wake = l), () => (wake = undefined)) },
    ...opts,
  });
  c.on('state', (s, r) => states.push(r ? `${s}:${r}` : s));
  return { c, t, states, storage };
}

const remembered = (s: ReturnType<typeof mapStorage>) => [...s.map.values()].map((v) => JSON.parse(v).rung);

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe('rung memory', () => {
  test('after WebSocket proved broken, the next start begins on the rung that worked', async () => {
    const first = setup();
    first.t.made[0]!.open(); // opened, then silent
    await vi.advanceTimersByTimeAsync(250);
    first.t.made[1]!.greet().welcome();
    expect(first.c.rung).toBe('sse');
    expect(remembered(first.storage)).toEqual(['sse']);
    first.c.close();

    const warm = setup(first.storage);
    expect(warm.t.made.map((x) => x.rung)).toEqual(['sse']);
    warm.t.last().greet().welcome();
    expect(warm.c.rung).toBe('sse');
    warm.c.close();
  });

  test('one slow start does not pin the client: a rung that was merely slow is not held against it', async () => {
    const { c, t, storage } = setup();
    await vi.advanceTimersByTimeAsync(250); // ws has not even opened...
    await vi.advanceTimersByTimeAsync(200); // ...and sse is slow too: a slow network, not a broken rung
    t.made[1]!.greet().welcome();
    expect(c.rung).toBe('sse');
    expect(remembered(storage)).toEqual([]);
    c.close();
  });

  test('a rung still stuck long after another verified counts as hanging', async () => {
    const { c, t, storage } = setup();
    await vi.advanceTimersByTimeAsync(250);
    await vi.advanceTimersByTimeAsync(20);
    t.made[1]!.greet().welcome(); // sse verified in 20 ms while ws had been stuck for 270 ms
    expect(remembered(storage)).toEqual(['sse']);
    c.close();
  });

  test('a WebSocket cut once while connecting is bad luck, not a verdict', async () => {
    const { c, t, storage } = setup();
    t.made[0]!.open().fail({ code: 'WF_DISCONNECTED', message: 'cut' });
    t.made[1]!.greet().welcome();
    expect(c.rung).toBe('sse');
    expect(remembered(storage)).toEqual([]);
    c.close();
  });

  test('the memory expires', async () => {
    const storage = mapStorage();
    storage.setItem('wirefall:rung:http://h.test/wf', JSON.stringify({ rung: 'longpoll', at: Date.now() - 2 * 3600_000 }));
    const { c, t } = setup(storage);
    expect(t.made[0]!.rung).toBe('ws');
    c.close();
  });

  test('a network change ("online") forgets it', async () => {
    const storage = mapStorage();
    storage.setItem('wirefall:rung:http://h.test/wf', JSON.stringify({ rung: 'sse', at: Date.now() }));
    const { c } = setup(storage);
    wake?.('online');
    expect(remembered(storage)).toEqual([]);
    c.close();
  });

  test('a server restart does not push the client down: a rung that worked before is not forgotten', async () => {
    const { c, t, storage } = setup(mapStorage(), { upgradeProbe: { first: 1000, max: 1000 } });
    t.made[0]!.greet().welcome();
    expect(c.rung).toBe('ws');
    t.made[0]!.fail({ code: 'WF_DISCONNECTED', message: 'restart' });
    await vi.advanceTimersByTimeAsync(10);
    t.made[1]!.fail({ code: 'WF_NETWORK', message: 'refused while restarting' });
    t.made[2]!.greet().welcome({ resumed: true });
    expect(c.rung).toBe('sse');
    expect(remembered(storage)).toEqual(['ws']);
    // ...and it climbs back when WebSocket is up again.
    await vi.advanceTimersByTimeAsync(1000);
    const climb = t.last();
    expect(climb.rung).toBe('ws');
    expect(JSON.parse(climb.ctx.hello)).toMatchObject({ sid: 's1', key: 'k1' });
    climb.greet().welcome({ resumed: true });
    expect(c.rung).toBe('ws');
    expect(t.made[2]!.closed).toBeDefined();
    c.close();
  });

  test('when the remembered rung fails too, the next try starts from the top', async () => {
    const storage = mapStorage();
    storage.setItem('wirefall:rung:http://h.test/wf', JSON.stringify({ rung: 'longpoll', at: Date.now() }));
    const { c, t } = setup(storage);
    expect(t.made.map((x) => x.rung)).toEqual(['longpoll']);
    t.made[0]!.fail({ code: 'WF_NETWORK', message: 'x' });
    await vi.advanceTimersByTimeAsync(10);
    expect(t.last().rung).toBe('ws');
    c.close();
  });
});

describe('climbing back up', () => {
  test('the climb backs off while the rungs above stay broken, then moves the session up', async () => {
    const { c, t, states } = setup(mapStorage(), { upgradeProbe: { first: 1000, max: 8000 } });
    t.made[0]!.fail({ code: 'WF_NETWORK', message: 'blocked' });
    t.made[1]!.fail({ code: 'WF_NETWORK', message: 'blocked' });
    t.made[2]!.greet().welcome();
    expect(c.rung).toBe('longpoll');
    const climbsAt: number[] = [];
    const start = Date.now();
    for (let i = 0; i < 3; i++) {
      const before = t.made.length;
      while (t.made.length === before) await vi.advanceTimersByTimeAsync(100);
      climbsAt.push(Date.now() - start);
      // Every rung above refuses again (a failure starts the next rung at once).
      t.made[before]!.fail({ code: 'WF_NETWORK', message: 'still blocked' });
      t.made[before + 1]!.fail({ code: 'WF_NETWORK', message: 'still blocked' });
    }
    // 1 s, then 2 s later, then 4 s later.
    expect(climbsAt[1]! - climbsAt[0]!).toBeGreaterThanOrEqual(1900);
    expect(climbsAt[2]! - climbsAt[1]!).toBeGreaterThanOrEqual(3900);
    expect(c.rung).toBe('longpoll');
    while (t.last().rung !== 'ws' || t.last().closed) await vi.advanceTimersByTimeAsync(100);
    t.last().greet().welcome({ resumed: true });
    expect(c.rung).toBe('ws');
    expect(states.at(-1)).toBe('open:ws');
    c.close();
  });

  test('frequent reconnects do not postpone the climb for ever', async () => {
    const t = fakeTransports();
    const climbsAt: number[] = [];
    let c!: ReturnType<typeof connect<Chat>>;
    const t0 = Date.now();
    // A climb is a ws attempt started while the client is open.
    const factory: typeof t.factory = (ctx) => {
      const x = t.factory(ctx);
      if (ctx.rung.name === 'ws' && c?.state === 'open') climbsAt.push(Date.now() - t0);
      else if (ctx.rung.name === 'ws') queueMicrotask(() => (x as ReturnType<typeof t.last>).fail({ code: 'WF_NETWORK', message: 'blocked' }));
      else queueMicrotask(() => (x as ReturnType<typeof t.last>).greet().welcome({ resumed: true }));
      return x;
    };
    c = connect<Chat>('http://h.test/wf', {
      transports: ['ws', 'sse'],
      transportFactories: { ws: factory, sse: factory },
      reconnect: { base: 10, max: 10 },
      upgradeProbe: { first: 1000, max: 1000 },
      platform: { storage: mapStorage(), random: () => 0.5, onWake: () => () => {} },
    });
    await vi.advanceTimersByTimeAsync(0);
    expect(c.rung).toBe('sse');
    // The sse link is cut every 300 ms; every reconnect finds ws blocked and sse working.
    for (let i = 0; i < 4; i++) {
      await vi.advanceTimersByTimeAsync(300);
      t.made.filter((x) => x.rung === 'sse' && !x.closed).at(-1)?.fail({ code: 'WF_DISCONNECTED', message: 'cut' });
    }
    await vi.advanceTimersByTimeAsync(100);
    expect(climbsAt.length).toBeGreaterThan(0);
    expect(climbsAt[0]).toBeLessThanOrEqual(1100);
    c.close();
  });

  test('a rung that stalls three times within a minute is demoted', async () => {
    const { c, t, storage } = setup(mapStorage(), { upgradeProbe: false });
    for (let i = 0; i < 3; i++) {
      expect(t.last().rung).toBe('ws');
      t.last().greet().welcome({ resumed: i > 0 });
      expect(c.rung).toBe('ws');
      await vi.advanceTimersByTimeAsync(7001); // ping unanswered: stalled
      expect(c.state).toBe('reconnecting');
      await vi.advanceTimersByTimeAsync(10); // the reconnect starts
    }
    expect(t.last().rung).toBe('sse');
    expect(remembered(storage)).toEqual(['sse']);
    c.close();
  });
});
