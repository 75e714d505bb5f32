import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    environment: 'node',
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Networking tests bind real ports; two workers match the two cores we run on.
    pool: 'forks',
    maxWorkers: 2,
  },
});
