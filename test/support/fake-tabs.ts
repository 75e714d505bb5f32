import { vi } from 'vitest';
import { connect, type ClientOptions } from '../../src/index';
import type { ApiCheck, ApiShape } from '../../src/protocol/api';
import type { ChannelLike, LocksLike } from '../../src/platform';
import { share } from '../../src/share/index';
import type { TabMessage } from '../../src/share/tab-protocol';
import { fakeTransports } from './fake-transport';

/* Fake tabs for wirefall/share tests: Web Locks and BroadcastChannel as browsers run them. */

export function fakeChannels() {
  const open = new Set<{ tab: string; ch: ChannelLike }>();
  const dead = new Set<string>();
  let lose: (m: TabMessage) => boolean = () => false;
  return {
    for(tab: string) {
      return (_name: string): ChannelLike => {
        const me = {
          tab,
          ch: {
            onmessage: null as ChannelLike['onmessage'],
            postMessage(m: unknown) {
              if (dead.has(tab) || lose(m as TabMessage)) return;
              const data = structuredClone(m);
              for (const o of open) if (o !== me) setTimeout(() => !dead.has(o.tab) && open.has(o) && o.ch.onmessage?.({ data }), 0);
            },
            close: () => void open.delete(me),
          },
        };
        open.add(me);
        return me.ch;
      };
    },
    kill: (tab: string) => void dead.add(tab),
    lose: (f: (m: TabMessage) => boolean) => void (lose = f),
  };
}

/**
 * Web Locks as the browser runs them: per name, exclusive or shared, granted in request order, the
 * callback's promise holding the lock. `for(tab)` is one tab's `navigator.locks`; `crash(tab)`
 * kills that tab without running any of its code: the browser releases every lock it held and
 * forgets the ones it waited for, as it does for a crashed renderer.
 */
export function crashableLocks(): LocksLike & { for(tab: string): LocksLike; crash(tab: string): void } {
  type Req = { owner?: string; shared: boolean; run(): void; release?: () => void };
  const names = new Map<string, { held: Set<Req>; queue: Req[] }>();
  const at = (name: string) => names.get(name) ?? names.set(name, { held: new Set(), queue: [] }).get(name)!;
  const grantable = (r: Req | undefined, held: Set<Req>) => r && (!held.size || (r.shared && [...held].every((h) => h.shared)));
  const grant = (name: string) => {
    const { held, queue } = at(name);
    while (grantable(queue[0], held)) {
      const r = queue.shift()!;
      held.add(r);
      r.run();
    }
  };
  const view = (owner?: string): LocksLike => ({
    request(name, opts, cb) {
      return new Promise((resolve, reject) => {
        const { held, queue } = at(name);
        const r: Req = {
          owner,
          shared: opts.mode === 'shared',
          run: () => {
            r.release = () => void (held.delete(r) && (resolve(undefined), grant(name)));
            void Promise.resolve(cb(null)).then(r.release);
          },
        };
        queue.push(r);
        opts.signal?.addEventListener('abort', () => {
          const i = queue.indexOf(r);
          if (i >= 0) queue.splice(i, 1), reject(new Error('AbortError'));
        });
        grant(name);
      });
    },
  });
  return {
    ...view(),
    for: view,
    crash(tab) {
      for (const [name, { held, queue }] of names) {
        for (const r of queue.filter((q) => q.owner === tab)) queue.splice(queue.indexOf(r), 1);
        for (const r of [...held]) if (r.owner === tab) held.delete(r);
        grant(name);
      }
    },
  };
}

/**
 * Tabs A, B, C… in one fake origin, each a shared client on fake transports (vitest's fake timers
 * on: `flushTabs` runs them). Each holds its locks as its own (`locks.crash(name)`). The first to run leads once `flushTabs(200)` has run.
 */
export function fakeSharedTabs<Api extends ApiShape & ApiCheck<Api>>(names: string[], options: ClientOptions = {}) {
  vi.useFakeTimers();
  const channels = fakeChannels();
  const locks = crashableLocks();
  const tabs = names.map((name) => {
    const t = fakeTransports();
    const c = connect<Api>('http://h.test/wf', {
      share: share(),
      transports: ['ws'],
      transportFactories: { ws: t.factory },
      ...options,
      platform: { locks: locks.for(name), channel: channels.for(name), onLeave: () => () => {}, onWake: () => () => {}, random: () => 0.5 },
    });
    return { name, c, t };
  });
  return { tabs, channels, locks };
}

/** Runs the timers due within `ms`, and the channel deliveries they cause, several hops deep (a 0 ms timer set from inside a fake timer is due 1 ms later). */
export async function flushTabs(ms = 0): Promise<void> {
  await vi.advanceTimersByTimeAsync(ms);
  for (let i = 0; i < 6; i++) await vi.advanceTimersByTimeAsync(1);
}
