import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // At least two files at a time (vitest's default is one fewer than the cores: one on two cores).
    // Much of the time goes waiting on the CLI tests' child processes and on loopback sockets.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    // The CLI tests start the built binary (and often a simulator) as child processes: on a busy
    // two-core machine a start alone can take a second, so 5 s is too tight for the few that do
    // several. Nothing waits out real time otherwise (fake timers), so this only bounds a hang.
    testTimeout: 15_000,
    coverage: {
      provider: 'v8',
      include: ['src/**/*.ts'],
      // Runs only in the child processes of the CLI tests (they spawn the built binary), which
      // in-process coverage cannot see.
      exclude: ['src/cli.ts'],
      reporter: ['text-summary', 'html'],
      thresholds: { lines: 90 },
    },
  },
});
