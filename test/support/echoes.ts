import { expect } from 'vitest';
import type { Client } from '../../src/index';
import { eventually, type Chat } from './harness';

/**
 * Sends `n` echoes (numbered from `from`) spread over `ms` and checks both directions: every one
 * back, no loss, no duplicate, in order. The server must answer `echo` with `echoed`.
 */
export async function echoes(c: Client<Chat>, n: number, ms: number, from = 0, deadlineMs = 10_000): Promise<void> {
  const back: number[] = [];
  const off = c.subscribe('echoed', (d) => back.push(d.n));
  const sends: Promise<void>[] = [];
  const batches = 10;
  for (let b = 0; b < batches; b++) {
    for (let i = 0; i < n / batches; i++) sends.push(c.send('echo', { n: from + b * (n / batches) + i }));
    await new Promise((r) => setTimeout(r, ms / batches));
  }
  await Promise.all(sends);
  await eventually(() => back.length >= n, deadlineMs, `${n} echoes (have ${back.length})`);
  off();
  expect(back).toEqual(Array.from({ length: n }, (_, i) => from + i));
}
