import { expect, test } from 'vitest';
import { clientSession } from '../../src/core/client-session';
import { tapHook } from '../../src/share/tap';
import { resolveTimings } from '../../src/core/options';

/*
 * A client seeded with another tab's session (a hand-over, src/share) numbers its messages on from
 * its first resumed welcome's ack, so its hellos ask the server to fence the old writer first
 * (`fence`, docs/protocol.md §4); once that welcome settled the numbers, hellos are plain resumes.
 */
test('a seeded session\'s hellos carry fence until its first resumed welcome; a plain one\'s never do', async () => {
  const seed = { sid: 'sid-1', key: 'key-1', received: 4, acked: 2, entries: [{ s: 3, ev: 'say', payload: '{"n":3}' }] };
  const settled: Promise<void>[] = [];
  const s = clientSession(resolveTimings({}), undefined, () => {});
  // Seeded the way wirefall/share seeds a new leader's client.
  // The session is also the links' host (src/core/session-tap.ts): the client adds its callbacks.
  tapHook({ seed, seeded: (p) => void settled.push(...p) })(Object.assign(s, { deliver: () => {}, wake: () => {}, bye: 1000 }) as never);
  const hello = () => JSON.parse(s.hello('race-1') as string) as Record<string, unknown>;
  // `tabs`: wirefall/share's hook marks every hello of a shared session (the server keeps its last acked messages).
  expect(hello()).toMatchObject({ t: 'hello', sid: 'sid-1', key: 'key-1', ack: 4, fence: 1, tabs: 1 });
  expect(hello()).toMatchObject({ fence: 1 }); // a race that failed: the next one still fences
  s.welcome({ t: 'welcome', v: 3, sid: 'sid-1', key: 'key-1', hb: 5000, ack: 3, resumed: true, max: 1 << 20 }, 0);
  await expect(settled[0]).resolves.toBeUndefined(); // 3 was received: the ack settled it
  expect(hello()).not.toHaveProperty('fence');
  expect(hello()).toMatchObject({ sid: 'sid-1', ack: 4, tabs: 1 });

  const plain = clientSession(resolveTimings({}), undefined, () => {});
  expect(JSON.parse(plain.hello('r') as string)).not.toHaveProperty('fence');
  expect(JSON.parse(plain.hello('r') as string)).not.toHaveProperty('tabs');
  plain.welcome({ t: 'welcome', v: 3, sid: 'sid-2', key: 'key-2', hb: 5000, ack: 0, resumed: false, max: 1 << 20 }, 0);
  expect(JSON.parse(plain.hello('r') as string)).toMatchObject({ sid: 'sid-2', key: 'key-2' });
  expect(JSON.parse(plain.hello('r') as string)).not.toHaveProperty('fence');
});
