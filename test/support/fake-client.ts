import { connect, type WirefallError } from '../../src/index';
import type { Chat } from './harness';
import { fakeTransports } from './fake-transport';
import { mapStorage } from './map-storage';

export type WakeListener = (r: 'online' | 'visible') => void;

/**
 * A client on fake transports (ws, then sse) for fake-clock tests: the sequential ladder, fixed
 * jitter, its errors and `state`/`rung` history recorded. `setWake` receives the wake listener
 * the client registers (and undefined when it lets go of it).
 */
export function fakeClient(opts: Parameters<typeof connect>[1] = {}, setWake: (l: WakeListener | undefined) => void = () => {}) {
  const t = fakeTransports();
  const errors: WirefallError[] = [];
  const states: string[] = [];
  const c = connect<Chat>('http://h.test/wf', {
    earlyFallback: false, // the sequential ladder; the early HTTP rung is tested in race.test.ts
    transports: ['ws', 'sse'],
    transportFactories: { ws: t.factory, sse: t.factory },
    platform: { storage: mapStorage(), random: () => 0.5, onWake: (l) => (setWake(l), () => setWake(undefined)) },
    ...opts,
  });
  c.on('error', (e) => errors.push(e));
  c.on('state', (s, r) => states.push(r ? `${s}:${r}` : s));
  return { c, t, errors, states };
}
