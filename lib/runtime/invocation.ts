import type { Config } from '../config.js'
import { logConfig } from '../config-summary.js'
import { errorFields, logger } from '../log.js'
import { redactDeep, redactError } from '../redact.js'
import { createDeadline, DEFAULT_SAFETY_MARGIN_MS, type Deadline } from '../sync/deadline.js'
import type { Container } from './container.js'
import type { FetchedSecrets, SecretRole } from './fetched-secrets.js'

/** What every function's dependencies are built from, per invocation. */
export interface Invocation {
  readonly config: Config
  readonly secrets: FetchedSecrets
  readonly deadline: Deadline
  /** Identifies this invocation in leases: `<function>/<request id>`. */
  readonly owner: string
  readonly container: Container
}

/** One Lambda function, free of middy and of the Lambda context. */
export interface FunctionDefinition<I, O, D> {
  readonly name: string
  /** Validates the event; throws a clear error naming what is wrong. */
  readonly parse: (event: unknown) => I
  /** The secrets it fetches, of those configured. */
  readonly secrets: readonly SecretRole[]
  readonly dependencies: (invocation: Invocation) => Promise<D>
  readonly work: (input: I, deps: D) => Promise<O>
  /** This function's MongoDB client settings, when they differ from the configuration's. */
  readonly mongoSettings?: (config: Config) => Config
  /** Publishes the invocation's metrics; also after a failure, with no output. */
  readonly publishMetrics?: (
    output: O | undefined,
    edge: { readonly config: Config; readonly container: Container },
  ) => void
}

/** What the Lambda adapter hands over from the runtime. */
export interface LambdaFacts {
  readonly requestId: string
  readonly remainingMs: number
  /** middy's early-timeout signal: a last resort behind our own deadline. */
  readonly signal: AbortSignal
  readonly secrets: FetchedSecrets
}

/**
 * One invocation: log the configuration once per container, parse the input,
 * set the deadline, build the dependencies, work, publish metrics. A failure
 * is logged once here, with its context, and thrown to the runtime.
 */
export async function invoke<I, O, D>(
  fn: FunctionDefinition<I, O, D>,
  event: unknown,
  lambda: LambdaFacts,
  edge: { readonly config: Config; readonly container: Container },
): Promise<O> {
  const { config, container } = edge
  let output: O | undefined
  try {
    if (!container.configLogged) {
      logConfig(config)
      container.configLogged = true
    }
    const input = fn.parse(event)
    const deadline = createDeadline(lambda.remainingMs, DEFAULT_SAFETY_MARGIN_MS, lambda.signal)
    try {
      const owner = `${fn.name}/${lambda.requestId}`
      const deps = await fn.dependencies({
        config,
        secrets: lambda.secrets,
        deadline,
        owner,
        container,
      })
      // The report leaves redacted, whatever its strings quote (docs/security.md#what-is-redacted-where).
      output = redactDeep(await fn.work(input, deps))
      return output
    } finally {
      deadline.dispose()
    }
  } catch (error) {
    logger.error(`${fn.name} failed`, { event: `${fn.name}.error`, ...errorFields(error) })
    // Its message and stack reach the runtime's log line and the failure queue, past our logger.
    throw redactError(error)
  } finally {
    // Also after a failure: breaker opens count most then, and a missing
    // OldestCompleteSyncAgeSeconds is what the stale-sync alarm treats as breaching.
    fn.publishMetrics?.(output, edge)
  }
}
