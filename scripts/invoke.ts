/**
 * Runs a function's Lambda handler in this process, with a Lambda-like
 * context, against whatever the environment points at:
 *
 *   npm run -s invoke -- reconcile '{"dryRun": true}'
 *
 * The same handler, middleware and Secrets Manager wiring as deployed; no
 * bundling step (`npx serverless invoke local` does the same through the
 * bundle). The run's budget is RUN_BUDGET_MS. Prints the result as one JSON
 * line; exits 0 when `ok` (health: status 200), 2 when the run reported
 * failures (health: 503), 1 when the invocation itself failed.
 *
 *   npm run -s invoke -- health
 */
import { randomUUID } from 'node:crypto'
import type { Context } from 'aws-lambda'
import { getConfig } from '../lib/config.js'
import { messageOf } from '../lib/errors.js'

const functions = ['reconcile', 'watch', 'health'] as const
type FunctionName = (typeof functions)[number]

const [name, data] = process.argv.slice(2)
if (!functions.includes(name as FunctionName)) {
  process.stderr.write(`usage: invoke <${functions.join('|')}> [json-input]\n`)
  process.exit(64)
}

let event: unknown = {}
try {
  event = data === undefined ? {} : JSON.parse(data)
} catch {
  process.stderr.write(`invoke: the input is not JSON: ${data}\n`)
  process.exit(64)
}

try {
  const started = Date.now()
  const budgetMs = getConfig().runBudgetMs
  const context = {
    awsRequestId: randomUUID(),
    functionName: `kube-mongo-sync-local-${name}`,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:kube-mongo-sync-local-${name}`,
    memoryLimitInMB: '1024',
    logGroupName: `/aws/lambda/kube-mongo-sync-local-${name}`,
    logStreamName: 'local',
    callbackWaitsForEmptyEventLoop: false,
    getRemainingTimeInMillis: () => Math.max(0, budgetMs - (Date.now() - started)),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  } satisfies Context
  const { handler } = (await import(`../functions/${name}.js`)) as {
    handler: (event: unknown, context: Context) => Promise<{ ok?: boolean; statusCode?: number }>
  }
  const result = await handler(event, context)
  process.stdout.write(`${JSON.stringify(result)}\n`)
  // The sync functions report `ok`; the HTTP one (health) answers with a status code.
  const ok = result.statusCode === undefined ? result.ok === true : result.statusCode < 300
  process.exitCode = ok ? 0 : 2
} catch (error) {
  process.stderr.write(`${name} failed: ${messageOf(error)}\n`)
  process.exitCode = 1
} finally {
  // The MongoDB client is kept for warm invocations in Lambda; here the process ends.
  const { closeContainer } = await import('../lib/runtime/lambda-handler.js')
  await closeContainer().catch(() => undefined)
  // With a *_SECRET_ID set, @middy/secrets-manager keeps a 15-minute cache-refresh timer
  // (a Lambda container simply freezes with it); here nothing else is left to do.
  process.exit()
}
