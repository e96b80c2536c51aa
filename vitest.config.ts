import { defineConfig } from 'vitest/config'

/** Tests that package the service offline and read the template: they need no local server. */
const packaging = [
  'test/integration/service/deployment-secrets.test.ts',
  'test/integration/service/fleet.test.ts',
]

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
          // `serverless package` only, in a copy of the service (test/integration/service/template.ts):
          // no server, no shared folder, so it runs beside the integration tests, not after them.
          name: 'packaging',
          include: packaging,
          environment: 'node',
          testTimeout: 240_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          exclude: packaging,
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
