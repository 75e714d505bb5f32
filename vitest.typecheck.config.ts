import { defineConfig } from 'vitest/config';

// Type tests (`*.test-d.ts`) prove that wrong message names and shapes are compile errors.
export default defineConfig({
  test: {
    include: [],
    typecheck: { enabled: true, only: true, include: ['test/types/**/*.test-d.ts'], tsconfig: './tsconfig.json' },
  },
});
