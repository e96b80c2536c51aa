import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware'
import middy from '@middy/core'
import { clearCache } from '@middy/util'
import type { Context } from 'aws-lambda'
import { getConfig } from '../config.js'
import { errorFields, logger } from '../log.js'
import { redactError } from '../redact.js'
import { createContainer, type Container } from './container.js'
import type { FetchedSecrets } from './fetched-secrets.js'
import { invoke, type FunctionDefinition } from './invocation.js'
import { secretIds, secretsMiddlewares } from './secrets-middleware.js'

/*
 * The Lambda adapter: as thin as Powertools' middy adapters over their cores.
 * It reads the configuration (the one place that does), keeps the
 * warm-container state, and wires middy. What is deliberately absent: an
 * http-error-handler (it would turn a failed scheduled run into success) and
 * @middy/error-logger (it logs the whole request, secrets included).
 */

/** middy's own early timeout: a last resort, after our deadline (DEFAULT_SAFETY_MARGIN_MS) had its chance. */
const MIDDY_TIMEOUT_EARLY_MS = 1_000

/** This container's state, kept across warm invocations (see container.ts). */
let container: Container | undefined

export function createLambdaHandler<I, O, D>(fn: FunctionDefinition<I, O, D>) {
  const base = async (
    event: unknown,
    context: Context & FetchedSecrets,
    opts: { signal: AbortSignal },
  ): Promise<O> => {
    let config
    try {
      // A configuration problem fails every invocation with its one-line-per-variable message.
      config = getConfig()
    } catch (error) {
      logger.error(`${fn.name} failed`, { event: `${fn.name}.error`, ...errorFields(error) })
      throw redactError(error)
    }
    container ??= createContainer(fn.mongoSettings?.(config) ?? config)
    const secrets = {
      mongodb: context.mongodb,
      kubeconfig: context.kubeconfig,
      hashKey: context.hashKey,
    }
    const lambda = {
      requestId: context.awsRequestId,
      remainingMs: context.getRemainingTimeInMillis(),
      signal: opts.signal,
      secrets,
    }
    try {
      return await invoke(fn, event, lambda, { config, container })
    } finally {
      // In Lambda the container freezes with the client open and the secret
      // cache's refresh timer pending, for the next warm invocation.
      // `serverless invoke local` (which sets IS_LOCAL) waits for the event
      // loop to drain instead, so both must go, whatever the outcome.
      if (process.env.IS_LOCAL === 'true') {
        clearCache()
        await container.mongo.disconnectDB()
      }
    }
  }

  const handler = middy(base, { timeoutEarlyInMillis: MIDDY_TIMEOUT_EARLY_MS }).use(
    injectLambdaContext(logger, { resetKeys: true }),
  )
  // Read the config here only to learn which secrets to fetch; a bad config
  // still fails inside the handler, with its message, on every invocation.
  let ids: Record<string, string>
  try {
    ids = secretIds(getConfig(), fn.secrets)
  } catch {
    ids = {}
  }
  for (const middleware of secretsMiddlewares(fn.name, ids)) handler.use(middleware)
  return handler
}

/** Closes this container's MongoDB client (a local runner exiting). */
export async function closeContainer(): Promise<void> {
  await container?.mongo.disconnectDB()
}
