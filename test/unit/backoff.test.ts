import { expect, test } from 'vitest';
import { backoffDelay } from '../../src/core/backoff';

test('full jitter: uniformly below the capped exponential ceiling', () => {
  const opts = { base: 100, max: 1000 };
  expect(backoffDelay(0, opts, () => 0.999)).toBe(99);
  expect(backoffDelay(3, opts, () => 0.5)).toBe(400);
  expect(backoffDelay(10, opts, () => 0.999)).toBe(999);
  expect(backoffDelay(1000, opts, () => 0.5)).toBe(500);
  expect(backoffDelay(2, opts, () => 0)).toBe(0);
});
