import { up } from './up.js'

// The stack outlives the test run on purpose: the next run reuses it in well under a second.
// `npm run stack:down` (and .ci/run) stops it.
export default async function setup(): Promise<void> {
  await up()
}
