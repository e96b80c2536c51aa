import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware'
import middy from '@middy/core'
import secretsManager from '@middy/secrets-manager'
import { clearCache } from '@middy/util'
import type { Context } from 'aws-lambda'
import { getConfig, type Config } from '../config.js'
import { logConfig } from '../config-summary.js'
import { messageOf, SyncError } from '../errors.js'
import { errorFields, logger } from '../log.js'
import { createDeadline, DEFAULT_SAFETY_MARGIN_MS, type Deadline } from '../sync/deadline.js'
import { publishInvocationMetrics, type InvocationMetrics } from '../metrics/emf.js'
import { disconnectDB } from '../store/connection/client.js'
import { createDependencies, type FetchedSecrets, type SyncDependencies } from './dependencies.js'

/*
 * The shared middy wiring of both functions. What is deliberately absent:
 * an http-error-handler (it would turn a failed scheduled run into success)
 * and @middy/error-logger (it logs the whole request, secrets included).
 */

/** Secrets are re-read every 15 min, so a rotated password reaches warm containers. */
const SECRET_CACHE_MS = 15 * 60 * 1000

/** middy's own early timeout: a last resort, after our deadline (DEFAULT_SAFETY_MARGIN_MS) had its chance. */
const MIDDY_TIMEOUT_EARLY_MS = 1_000

export interface RunContext<D = SyncDependencies> {
  readonly config: Config
  readonly deps: D
  readonly deadline: Deadline
  readonly owner: string
}

export type SecretRole = keyof FetchedSecrets

/** What sets a function apart from the sync functions' defaults. */
export interface HandlerOptions<D> {
  /** The secrets it fetches, of those configured (default: all of them). */
  readonly secrets?: readonly SecretRole[]
  /** Builds `deps` (default: createDependencies, Kubernetes and MongoDB). */
  readonly dependencies?: (
    config: Config,
    secrets: FetchedSecrets,
    signal: AbortSignal,
  ) => Promise<D>
}

let configLogged = false

function secretIds(config: Config, roles?: readonly SecretRole[]): Record<string, string> {
  const ids: Record<string, string> = {}
  if (config.mongodb.secretId) ids.mongodb = config.mongodb.secretId
  if (config.k8s.kubeconfigSecretId) ids.kubeconfig = config.k8s.kubeconfigSecretId
  if (config.secrets.hashKeySecretId) ids.hashKey = config.secrets.hashKeySecretId
  if (!roles) return ids
  return Object.fromEntries(
    Object.entries(ids).filter(([role]) => roles.includes(role as SecretRole)),
  )
}

const secretVariable: Record<string, string> = {
  mongodb: 'MONGODB_SECRET_ID',
  kubeconfig: 'KUBECONFIG_SECRET_ID',
  hashKey: 'SECRET_HASH_KEY_SECRET_ID',
}

/**
 * middy reports a failed secret fetch as "Failed to resolve internal values";
 * this names the variables, the secret ids and the SDK's reasons instead.
 * The invocation still fails (no response is set).
 */
function nameSecretFailures(ids: Record<string, string>): middy.MiddlewareObj {
  return {
    onError: (request) => {
      const error = request.error
      if (!error || error.message !== 'Failed to resolve internal values') return
      const causes = (error.cause as { data?: unknown[] } | undefined)?.data ?? []
      const which = Object.entries(ids)
        .map(([role, id]) => `${secretVariable[role] ?? role}=${id}`)
        .join(', ')
      request.error = new SyncError(
        `Secrets Manager: could not fetch ${which}: ${causes.map(messageOf).join('; ') || error.message}`,
        { cause: error },
      )
      logger.error('secrets fetch failed', {
        event: 'secrets.failed',
        ...errorFields(request.error),
      })
    },
  }
}

export function createLambdaHandler<I, O, D = SyncDependencies>(
  name: string,
  parse: (event: unknown) => I,
  work: (input: I, run: RunContext<D>) => Promise<O>,
  // The default builds SyncDependencies, which is D whenever no builder is given.
  options: HandlerOptions<D> & {
    /** The invocation's CloudWatch metrics (EMF); without it the function publishes none. */
    readonly metricsOf?: (output: O) => InvocationMetrics
  } = {},
) {
  const buildDependencies =
    options.dependencies ??
    (createDependencies as unknown as NonNullable<HandlerOptions<D>['dependencies']>)
  const base = async (
    event: unknown,
    context: Context & FetchedSecrets,
    opts: { signal: AbortSignal },
  ): Promise<O> => {
    let config: Config | undefined
    let metrics: InvocationMetrics | undefined
    try {
      // A configuration problem fails every invocation with its one-line-per-variable message.
      config = getConfig()
      if (!configLogged) {
        logConfig(config)
        configLogged = true
      }
      const input = parse(event)
      const deadline = createDeadline(
        context.getRemainingTimeInMillis(),
        DEFAULT_SAFETY_MARGIN_MS,
        opts.signal,
      )
      try {
        const secrets: FetchedSecrets = {
          mongodb: context.mongodb,
          kubeconfig: context.kubeconfig,
          hashKey: context.hashKey,
        }
        const deps = await buildDependencies(config, secrets, deadline.signal)
        const output = await work(input, {
          config,
          deps,
          deadline,
          owner: `${name}/${context.awsRequestId}`,
        })
        metrics = options.metricsOf?.(output)
        return output
      } finally {
        deadline.dispose()
      }
    } catch (error) {
      logger.error(`${name} failed`, { event: `${name}.error`, ...errorFields(error) })
      throw error
    } finally {
      // Also after a failure: breaker opens count most then, and a missing
      // OldestCompleteSyncAgeSeconds is what the stale-sync alarm treats as breaching.
      if (config && options.metricsOf) publishInvocationMetrics(metrics, config.clusterName)
      // In Lambda the container freezes with the client open and the secret
      // cache's refresh timer pending, for the next warm invocation.
      // `serverless invoke local` (which sets IS_LOCAL) waits for the event
      // loop to drain instead, so both must go, whatever the outcome.
      if (process.env.IS_LOCAL === 'true') {
        clearCache()
        await disconnectDB()
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
    ids = secretIds(getConfig(), options.secrets)
  } catch {
    ids = {}
  }
  if (Object.keys(ids).length > 0) {
    handler.use(nameSecretFailures(ids)).use(
      secretsManager({
        fetchData: ids,
        setToContext: true,
        cacheKey: `kube-mongo-sync-${name}`,
        cacheExpiry: SECRET_CACHE_MS,
        // Prefetching at module load makes a failed fetch fail the cold start
        // before our error handling runs; fetch inside the invocation instead.
        disablePrefetch: true,
      }),
    )
  }
  return handler
}
