import { defineConfig } from 'vitest/config';

// Native work is CPU-heavy on a 2-core machine: run test files one at a time so timings and
// thread pools do not fight, and give model-loading tests room.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 300_000,
    reporters: ['default'],
  },
});
