import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // At least two files at a time (vitest's default is one fewer than the cores: one on two cores).
    // Much of the time goes waiting on the CLI tests' child processes and on loopback sockets.
    maxWorkers: Math.max(2, availableParallelism() - 1),
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
