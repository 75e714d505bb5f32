import { vi } from 'vitest';
import { connect, type ClientOptions } from '../../src/index';
import type { ApiCheck, ApiShape } from '../../src/protocol/api';
import type { ChannelLike, LocksLike } from '../../src/platform';
import { share } from '../../src/share/index';
import type { TabMessage } from '../../src/share/tab-protocol';
import { fakeTransports } from './fake-transport';

/* Fake tabs for wirefall/share tests: Web Locks and BroadcastChannel as browsers run them. */

/** Web Locks as the browser runs them: one holder per name, the next waiter granted on release. */
export function fakeLocks(): LocksLike {
  const queues = new Map<string, (() => void)[]>();
  const held = new Set<string>();
  const grant = (name: string) => {
    if (held.has(name)) return;
    const next = queues.get(name)?.shift();
    if (next) next();
  };
  return {
    request(name, opts, cb) {
      return new Promise((resolve, reject) => {
        const run = () => {
          held.add(name);
          void cb(null).then(() => (held.delete(name), resolve(undefined), grant(name)));
        };
        const q = queues.get(name) ?? [];
        queues.set(name, q);
        q.push(run);
        opts.signal?.addEventListener('abort', () => {
          const i = q.indexOf(run);
          if (i >= 0) q.splice(i, 1), reject(new Error('AbortError'));
        });
        grant(name);
      });
    },
  };
}

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

/** Web Locks whose holder can die without running any code (a crashed renderer): the lock passes on. */
export function crashableLocks(): LocksLike & { crash(): void } {
  const queue: (() => void)[] = [];
  let holder: (() => void) | undefined;
  const grant = () => {
    if (!holder) queue.shift()?.();
  };
  return {
    request(_name, opts, cb) {
      return new Promise((resolve, reject) => {
        const run = () => {
          const done = () => {
            if (holder !== done) return;
            holder = undefined;
            resolve(undefined);
            grant();
          };
          holder = done;
          void cb(null).then(done);
        };
        queue.push(run);
        opts.signal?.addEventListener('abort', () => {
          const i = queue.indexOf(run);
          if (i >= 0) queue.splice(i, 1), reject(new Error('AbortError'));
        });
        grant();
      });
    },
    crash: () => holder?.(),
  };
}


/**
 * Tabs A, B, C… in one fake origin, each a shared client on fake transports (vitest's fake timers
 * on: `flushTabs` runs them). The first to run leads once `flushTabs(200)` has run.
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
      platform: { locks, channel: channels.for(name), onLeave: () => () => {}, onWake: () => () => {}, random: () => 0.5 },
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
