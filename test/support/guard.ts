import { afterAll, afterEach, beforeAll, expect } from 'vitest';

/**
 * Fails the test during which the process saw an uncaught exception or an unhandled rejection:
 * in production either one ends a Node server (issue 16: the process must not die).
 */
export function guardProcess(): { seen: unknown[] } {
  const seen: unknown[] = [];
  const record = (err: unknown) => void seen.push(err);
  beforeAll(() => {
    process.on('uncaughtException', record);
    process.on('unhandledRejection', record);
  });
  afterEach(async () => {
    // A rejection is reported after a turn of the event loop: let it arrive within its test.
    await new Promise((r) => setTimeout(r, 20));
    expect(seen.splice(0).map(String)).toEqual([]);
  });
  afterAll(() => {
    process.off('uncaughtException', record);
    process.off('unhandledRejection', record);
  });
  return { seen };
}
