/**
 * `npm run history -- ...` arguments, checked before any connection so that a
 * typo is answered at once, naming the option, the value and what is allowed.
 */
import { parseArgs } from 'node:util'
import { DURATION_HELP, parseTimeOrAgo, TIME_HELP } from '../../lib/history-query/duration.js'
import { parseResourceRef } from '../../lib/resource-ref.js'

export const USAGE = `usage: npm run history -- --resource <id> [--namespace <ns>] [--name <name>] [options]

  One object (--name): its timeline, oldest first
    --since <time>    only versions observed since then: ${DURATION_HELP} ago, or an ISO time
    --diff            each version's patch, op by op (old → new where the previous version is known)
    --as-of <time>    the object as it was then (the latest version observed at or before it)
  A whole resource (no --name):
    --as-of <time>    every object that existed then: namespace, name, resourceVersion
  Common:
    --resource <id>   as in SYNC_RESOURCES: v1/configmaps, apps/v1/deployments
    --namespace <ns>  omit for a cluster-scoped object; without --name, filters the table
    --cluster <name>  default CLUSTER_NAME
    --json            machine-readable output (keys decoded as served)
    --stack-env       read the local stack's environment (.stack/env) first, like npm run drain

  <time> is ${TIME_HELP}.
  Connects like the functions: MONGODB_URI or MONGODB_SECRET_ID, MONGODB_DB.`

export interface HistoryOptions {
  readonly resource: string
  readonly namespace: string | null
  /** Whether --namespace was given (without --name, no namespace means every namespace). */
  readonly namespaceGiven: boolean
  readonly name: string | undefined
  readonly cluster: string | undefined
  readonly since: Date | undefined
  readonly asOf: Date | undefined
  readonly diff: boolean
  readonly json: boolean
  readonly stackEnv: boolean
}

export class UsageError extends Error {
  override readonly name = 'UsageError'
}

export const wantsHelp = (argv: readonly string[]) => argv.includes('--help') || argv.includes('-h')

const spec = {
  resource: { type: 'string' },
  namespace: { type: 'string' },
  name: { type: 'string' },
  cluster: { type: 'string' },
  since: { type: 'string' },
  'as-of': { type: 'string' },
  diff: { type: 'boolean', default: false },
  json: { type: 'boolean', default: false },
  'stack-env': { type: 'boolean', default: false },
} as const

function timeOption(option: string, text: string | undefined, now: Date): Date | undefined {
  if (text === undefined) return undefined
  const at = parseTimeOrAgo(text, now)
  if (!at) throw new UsageError(`--${option} ${JSON.stringify(text)} is not ${TIME_HELP}`)
  return at
}

function checkResource(text: string | undefined): string {
  if (text === undefined) throw new UsageError('--resource is required (e.g. apps/v1/deployments)')
  const ref = parseResourceRef(text)
  if (!ref)
    throw new UsageError(
      `--resource ${JSON.stringify(text)} is not a resource id: expected <version>/<plural> for the core group (v1/configmaps) or <group>/<version>/<plural> (apps/v1/deployments)`,
    )
  return ref.id
}

/** The options, or a UsageError naming what is wrong. */
export function cliOptions(argv: readonly string[], now: Date = new Date()): HistoryOptions {
  let values: ReturnType<typeof parseArgs<{ options: typeof spec }>>['values']
  try {
    values = parseArgs({ args: [...argv], options: spec, strict: true }).values
  } catch (error) {
    throw new UsageError((error as Error).message)
  }
  const name = values.name
  const asOf = timeOption('as-of', values['as-of'], now)
  if (asOf && (values.since !== undefined || values.diff))
    throw new UsageError('--as-of prints one state: it does not combine with --since or --diff')
  if (name === undefined && !asOf)
    throw new UsageError('without --name, give --as-of (the state of the whole resource then)')
  for (const option of ['namespace', 'name', 'cluster'] as const) {
    if (values[option] !== undefined && values[option].trim() === '')
      throw new UsageError(`--${option} is empty`)
  }
  return {
    resource: checkResource(values.resource),
    namespace: values.namespace ?? null,
    namespaceGiven: values.namespace !== undefined,
    name,
    cluster: values.cluster,
    since: timeOption('since', values.since, now),
    asOf,
    diff: values.diff,
    json: values.json,
    stackEnv: values['stack-env'],
  }
}
