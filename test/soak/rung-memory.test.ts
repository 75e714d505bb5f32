/**
 * Soak: where there is no `localStorage` (Node), the remembered rung lives in one map for the
 * whole process, one entry per server URL. A process that connects to many servers (one per
 * tenant, a test run) must not keep every URL for its whole life.
 */
import { expect, it } from 'vitest';
import { PROCESS_MEMORY_MAX, processMemorySize, rungMemory } from '../../src/core/memory';

it('the process-wide rung memory holds at most PROCESS_MEMORY_MAX servers; the latest is still recalled', () => {
  const now = 1_000_000;
  const servers = PROCESS_MEMORY_MAX * 10;
  for (let i = 0; i < servers; i++) {
    rungMemory(`https://tenant-${i}.example/wirefall`, undefined, 60_000).remember('sse', now);
    // Before the bound: one entry per server, 640 of them at the end.
    expect(processMemorySize()).toBeLessThanOrEqual(PROCESS_MEMORY_MAX);
  }
  expect(rungMemory(`https://tenant-${servers - 1}.example/wirefall`, undefined, 60_000).recall(now + 1)).toBe('sse');
  // What is still remembered expires as before, and garbage is forgotten.
  const last = rungMemory(`https://tenant-${servers - 1}.example/wirefall`, undefined, 60_000);
  expect(last.recall(now + 60_001)).toBeUndefined();
  expect(last.recall(now + 1)).toBeUndefined(); // forgotten when found expired
});

it('an entry whose time is not a number is forgotten (the check is written NaN-safe), whatever removeItem returns', () => {
  const store = new Map<string, string>();
  // A storage whose removeItem returns something (Map's delete; an async storage's promise): an
  // expired entry's recall returned that instead of "no rung".
  const storage = { getItem: (k: string) => store.get(k) ?? null, setItem: (k: string, v: string) => void store.set(k, v), removeItem: (k: string) => store.delete(k) };
  const m = rungMemory('https://a.example/wirefall', storage, 60_000);
  for (const at of ['"soon"', 'null', '{}', 'true']) {
    store.set('wirefall:rung:https://a.example/wirefall', `{"rung":"sse","at":${at}}`);
    expect(m.recall(1_000_000)).toBeUndefined();
  }
  store.set('wirefall:rung:https://a.example/wirefall', '{"rung":"sse"}');
  expect(m.recall(1_000_000)).toBeUndefined();
  expect(store.size).toBe(0);
  m.remember('longpoll', 1_000_000);
  expect(m.recall(1_000_500)).toBe('longpoll');
  expect(m.recall(999_000)).toBeUndefined(); // from the future: the clock moved back
});
