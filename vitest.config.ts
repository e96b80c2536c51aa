import { defineConfig } from 'vitest/config'

/** Tests that package the service offline and read the template: they need no local server. */
const packaging = [
  'test/integration/service/deployment-secrets.test.ts',
  'test/integration/service/fleet.test.ts',
]

/**
 * The integration files the second stream runs on the second stack (scripts/test.ts,
 * test/stack/second-stack.ts), chosen by their measured times so that both streams take about
 * as long (docs/development.md#tests). The stacks are identical: any file may run on either. A
 * file not listed runs in the first stream.
 */
const secondStream = [
  'test/integration/fleet/drain.test.ts',
  'test/integration/fleet/fleet-converge.test.ts',
  'test/integration/history-read/history-script.test.ts',
  'test/integration/history/history-scope.test.ts',
  'test/integration/kube/watcher.test.ts',
  'test/integration/service/invoke-local.test.ts',
  'test/integration/store/bookkeeping/lease.test.ts',
  'test/integration/store/writes/adaptive-pacing.test.ts',
  'test/integration/store/writes/chunk-fault.test.ts',
  'test/integration/sync/reconcile.test.ts',
  'test/integration/sync/watch.test.ts',
  'test/integration/sync/watch-deadline.test.ts',
]

// `npm test` sets KMS_TEST_STREAM; without it (a plain `vitest run`) every file is here.
const stream = process.env.KMS_TEST_STREAM

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
          // no server, no shared folder; `npm test` runs it in the second stream (scripts/test.ts).
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
          include: stream === 'second' ? secondStream : ['test/integration/**/*.test.ts'],
          exclude: [...packaging, ...(stream === 'first' ? secondStream : [])],
          environment: 'node',
          globalSetup: ['test/stack/global-setup.ts'],
          setupFiles: ['test/stack/load-env.ts'],
          testTimeout: 120_000,
          hookTimeout: 300_000,
          // Integration tests share a local stack; files run one at a time on it so a server
          // restart in one file never surprises another (two streams, two stacks: scripts/test.ts).
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
          // Its own group, so it never runs beside an integration file on the same stack: vitest runs
          // the ordered groups (unit, then this) before the files without parallelism, one at a time.
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
})
