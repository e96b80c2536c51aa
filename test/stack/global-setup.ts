import { up } from './up.js'

// The stack outlives the test run on purpose: the next run reuses it in well under a second.
// `npm run stack:down` (and .ci/run) stops it. Every run has at least three clusters for the
// fleet tests (KMS_STACK_CLUSTERS=N asks for exactly N); more already running are kept.
export default async function setup(): Promise<void> {
  await up({ minClusters: 3 })
}
