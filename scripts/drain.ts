/**
 * `npm run drain`: plays AWS Lambda's SQS event source on the local stack. Receives from
 * the work queues (RECONCILE_QUEUE_URL, WATCH_QUEUE_URL, from .stack/env), invokes the
 * worker handlers (functions/reconcileWorker.ts, functions/watchWorker.ts) in this process
 * with real SQS event records and a Lambda-like context, deletes what succeeded, lets
 * failures come back after their visibility timeout, and stops when the queues are empty.
 *
 *   npm run drain -- --concurrency 4 --queue reconcile
 *   npm run drain -- --handler reconcile=test/integration/fleet/fixtures/by-body.ts --json
 *
 * Exit code: 0 drained with every record successful; 2 drained but some records failed
 * (retried, or now in the dead-letter queue); 3 stopped by --max-seconds with work left;
 * 1 drain itself failed; 64 bad arguments.
 */
import { messageOf } from '../lib/errors.js'
import { readEnvFile } from '../test/stack/env-file.js'
import { cliOptions, USAGE, wantsHelp, type CliOptions } from './drain/cli-options.js'
import { drainQueues } from './drain/drain-queues.js'
import { invocationLine, summaryLines } from './drain/report.js'

const argv = process.argv.slice(2)
if (wantsHelp(argv)) {
  process.stdout.write(`${USAGE}\n`)
  process.exit(0)
}
// Like the demo: the stack's values win, so a shell's AWS keys never reach a real account.
// --no-stack-env drains whatever the shell points at instead.
if (!argv.includes('--no-stack-env')) Object.assign(process.env, readEnvFile() ?? {})

let options: CliOptions
try {
  options = cliOptions(argv, process.env)
} catch (error) {
  process.stderr.write(`drain: ${messageOf(error)}\n${USAGE}\n`)
  process.exit(64)
}

try {
  const summary = await drainQueues({
    ...options,
    onInvocation: (result) => process.stdout.write(`${invocationLine(result, options.json)}\n`),
  })
  process.stdout.write(`${summaryLines(summary, options.json)}\n`)
  process.exitCode = !summary.drained ? 3 : summary.failed > 0 ? 2 : 0
} catch (error) {
  process.stderr.write(`drain failed: ${messageOf(error)}\n`)
  process.exitCode = 1
} finally {
  // The workers keep their MongoDB client for warm invocations, as in Lambda; here the process ends.
  const { closeContainer } = await import('../lib/runtime/lambda-handler.js')
  await closeContainer().catch(() => undefined)
  process.exit()
}
