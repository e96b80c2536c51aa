import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/stack/global-setup.ts'],
          setupFiles: ['test/stack/load-env.ts'],
          testTimeout: 120_000,
          hookTimeout: 300_000,
          // Integration tests share one local stack; files run one at a time so a
          // server restart in one file never surprises another.
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'faults',
          include: ['test/faults/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/stack/global-setup.ts'],
          // One test file that runs the quick subset of the fault matrix (see test/faults/run.ts).
          testTimeout: 900_000,
          hookTimeout: 300_000,
          fileParallelism: false,
          // The rows break the shared stack on purpose (toxics, compaction): run after the others.
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
})
