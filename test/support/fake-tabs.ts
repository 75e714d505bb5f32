import type { ChannelLike, LocksLike } from '../../src/platform';
import type { TabMessage } from '../../src/share/tab-protocol';

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

