import { describe, expect, test } from 'vitest';
import { Election } from '../../src/share/election';
import { Mirror } from '../../src/share/mirror';
import { share } from '../../src/share/index';
import { connect } from '../../src/index';
import type { LocksLike } from '../../src/platform';

/** Web Locks as the browser runs them: one holder per name, the next waiter granted on release. */
function fakeLocks(): LocksLike {
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

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('Election (Web Locks)', () => {
  test('one leader at a time; resigning hands the lock to the next tab in line', async () => {
    const locks = fakeLocks();
    const led: string[] = [];
    const a = new Election(locks, 'x');
    const b = new Election(locks, 'x');
    const c = new Election(locks, 'x');
    a.join(() => led.push('a'));
    b.join(() => led.push('b'));
    c.join(() => led.push('c'));
    await tick();
    expect(led).toEqual(['a']);
    a.resign();
    await tick();
    expect(led).toEqual(['a', 'b']);
    c.resign(); // stops waiting: never leads
    b.resign();
    await tick();
    expect(led).toEqual(['a', 'b']);
  });
});

describe('Mirror', () => {
  const e = (s: number, from = 'A', id = s) => ({ s, ev: 'say', payload: `{"n":${s}}`, from, id });

  test('a new leader resumes with the numbers the old one gave', () => {
    const m = new Mirror();
    m.session = { sid: 's', key: 'k' };
    [1, 2, 3, 4].forEach((s) => m.assign(e(s)));
    m.acknowledge(2);
    const plan = m.seed(7)!;
    expect(plan.seed).toMatchObject({ sid: 's', key: 'k', received: 7, acked: 2 });
    expect(plan.entries.map((x) => x.s)).toEqual([3, 4]);
  });

  test('merging what other tabs saw: union of assignments, minus any ack', () => {
    const a = new Mirror();
    const b = new Mirror();
    a.assign(e(1));
    b.assign(e(1));
    b.assign(e(2, 'B', 1));
    a.acknowledge(1);
    b.session = { sid: 's', key: 'k' };
    a.merge(b.state());
    expect(a.session).toEqual({ sid: 's', key: 'k' });
    expect(a.entries().map((x) => [x.s, x.from])).toEqual([[2, 'B']]);
    expect(a.seed(0)!.seed.acked).toBe(1);
  });

  test('a lost session renumbers what remains from 1', () => {
    const m = new Mirror();
    [5, 6].forEach((s) => m.assign(e(s)));
    m.renumber();
    expect(m.entries().map((x) => x.s)).toEqual([1, 2]);
    expect(m.next).toBe(3);
  });
});

describe('share() without Web Locks or BroadcastChannel', () => {
  test('the context keeps its own connection and says so: role solo', () => {
    const c = connect('http://127.0.0.1:1/wirefall', { share: share(), transports: ['longpoll'], reconnect: false, platform: { locks: undefined, channel: undefined } });
    expect(c.role).toBe('solo');
    c.close();
  });
});
