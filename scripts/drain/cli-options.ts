import { parseArgs } from 'node:util'
import type { DrainQueue } from './types.js'

export const QUEUE_KINDS = ['reconcile', 'watch'] as const
export type QueueKind = (typeof QUEUE_KINDS)[number]

/** Per kind: where its URL comes from, the worker it feeds, and its serverless.yml timeout. */
const defaults: Record<QueueKind, { urlVar: string; module: string; timeoutSeconds: number }> = {
  reconcile: {
    urlVar: 'RECONCILE_QUEUE_URL',
    module: 'functions/reconcileWorker.ts',
    timeoutSeconds: 900,
  },
  watch: { urlVar: 'WATCH_QUEUE_URL', module: 'functions/watchWorker.ts', timeoutSeconds: 90 },
}

export const USAGE = `usage: npm run drain -- [--concurrency N] [--queue reconcile|watch|all]
  [--batch-size B] [--timeout-seconds S] [--max-seconds M] [--wait-seconds W]
  [--handler reconcile=path/to/module.ts] [--no-stack-env] [--json]`

export interface CliOptions {
  queues: DrainQueue[]
  concurrency: number
  batchSize: number
  waitTimeSeconds: number
  maxSeconds?: number
  json: boolean
}

const parse = (argv: string[]) =>
  parseArgs({
    args: argv,
    options: {
      concurrency: { type: 'string', default: '2' },
      queue: { type: 'string', default: 'all' },
      'batch-size': { type: 'string', default: '1' },
      'timeout-seconds': { type: 'string' },
      'max-seconds': { type: 'string' },
      'wait-seconds': { type: 'string', default: '1' },
      handler: { type: 'string', multiple: true, default: [] },
      'no-stack-env': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  })

const positive = (name: string, text: string, min = 1): number => {
  const value = Number(text)
  if (!Number.isInteger(value) || value < min)
    throw new Error(`--${name} must be an integer >= ${min}, got ${text}`)
  return value
}

// ReceiveMessage returns at most 10 messages: a mapping's larger batches need a batching window.
const batchSize = (text: string) => {
  const value = positive('batch-size', text)
  if (value > 10) throw new Error(`--batch-size is at most 10 (one ReceiveMessage), got ${text}`)
  return value
}

/** `--handler kind=path` and DRAIN_<KIND>_HANDLER override a queue's worker module. */
function handlerOverrides(specs: string[], env: NodeJS.ProcessEnv): Map<string, string> {
  const overrides = new Map<string, string>()
  for (const kind of QUEUE_KINDS) {
    const fromEnv = env[`DRAIN_${kind.toUpperCase()}_HANDLER`]
    if (fromEnv) overrides.set(kind, fromEnv)
  }
  for (const spec of specs) {
    const [kind, path] = [spec.slice(0, spec.indexOf('=')), spec.slice(spec.indexOf('=') + 1)]
    if (!QUEUE_KINDS.includes(kind as QueueKind) || !path)
      throw new Error(`--handler takes reconcile=<module> or watch=<module>, got ${spec}`)
    overrides.set(kind, path)
  }
  return overrides
}

/** The CLI's options; queue URLs and handler overrides are read from `env` (after .stack/env). */
export function cliOptions(argv: string[], env: NodeJS.ProcessEnv): CliOptions {
  const { values } = parse(argv)
  const chosen = values.queue === 'all' ? [...QUEUE_KINDS] : [values.queue as QueueKind]
  if (!chosen.every((kind) => QUEUE_KINDS.includes(kind)))
    throw new Error(`--queue must be reconcile, watch or all, got ${values.queue}`)
  const overrides = handlerOverrides(values.handler, env)
  const timeout = values['timeout-seconds']
  const queues = chosen
    .filter((kind) => values.queue !== 'all' || env[defaults[kind].urlVar])
    .map((kind): DrainQueue => {
      const url = env[defaults[kind].urlVar]
      if (!url) throw new Error(`${defaults[kind].urlVar} is not set (.stack/env or the shell)`)
      return {
        name: kind,
        url,
        handlerModule: overrides.get(kind) ?? defaults[kind].module,
        timeoutSeconds: timeout
          ? positive('timeout-seconds', timeout)
          : defaults[kind].timeoutSeconds,
      }
    })
  if (queues.length === 0)
    throw new Error('no queue to drain: set RECONCILE_QUEUE_URL and/or WATCH_QUEUE_URL')
  return {
    queues,
    concurrency: positive('concurrency', values.concurrency),
    batchSize: batchSize(values['batch-size']),
    waitTimeSeconds: positive('wait-seconds', values['wait-seconds'], 0),
    ...(values['max-seconds'] && { maxSeconds: positive('max-seconds', values['max-seconds']) }),
    json: values.json,
  }
}

export const wantsHelp = (argv: string[]) => argv.includes('--help') || argv.includes('-h')
