import { defineConfig } from 'vitest/config';

// Tests live in test/unit (no model), test/engine (the native engine through lib/engine),
// test/cli (the real CLI, spawned), test/server (the HTTP server, on a loopback port), test/robustness
// (bad input, hostile files, leaks, concurrency) and test/paper (the paper's own data; skipped with the reason where it is absent); helpers in
// test/helpers. Native work is CPU-heavy on a 2-core machine: run test files one at a time so
// timings and thread pools do not fight, and give model-loading tests room.
export default defineConfig({
  test: {
    include: ['test/{unit,engine,cli,server,robustness,paper,device}/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 300_000,
    reporters: ['default'],
  },
});
