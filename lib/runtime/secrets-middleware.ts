import type middy from '@middy/core'
import secretsManager from '@middy/secrets-manager'
import type { Config } from '../config.js'
import { messageOf, SyncError } from '../errors.js'
import { errorFields, logger } from '../log.js'
import type { SecretRole } from './fetched-secrets.js'

/** Secrets are re-read every 15 min, so a rotated password reaches warm containers. */
const SECRET_CACHE_MS = 15 * 60 * 1000

const secretVariable: Readonly<Record<SecretRole, string>> = {
  mongodb: 'MONGODB_SECRET_ID',
  kubeconfig: 'KUBECONFIG_SECRET_ID',
  hashKey: 'SECRET_HASH_KEY_SECRET_ID',
}

/** The configured secret ids by role, of the roles a function uses. */
export function secretIds(config: Config, roles: readonly SecretRole[]): Record<string, string> {
  const ids: Partial<Record<SecretRole, string | undefined>> = {
    mongodb: config.mongodb.secretId,
    kubeconfig: config.k8s.kubeconfigSecretId,
    hashKey: config.secrets.hashKeySecretId,
  }
  const chosen: Record<string, string> = {}
  for (const role of roles) {
    const id = ids[role]
    if (id) chosen[role] = id
  }
  return chosen
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
        .map(([role, id]) => `${secretVariable[role as SecretRole]}=${id}`)
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

/**
 * The middlewares that fetch these secrets into the context (by role), cached
 * per function; none when no secret is configured.
 */
export function secretsMiddlewares(fn: string, ids: Record<string, string>): middy.MiddlewareObj[] {
  if (Object.keys(ids).length === 0) return []
  return [
    nameSecretFailures(ids),
    // Typed for a context extended with the fetched values; the adapter reads them by role.
    secretsManager({
      fetchData: ids,
      setToContext: true,
      cacheKey: `kube-mongo-sync-${fn}`,
      cacheExpiry: SECRET_CACHE_MS,
      // Prefetching at module load makes a failed fetch fail the cold start
      // before our error handling runs; fetch inside the invocation instead.
      disablePrefetch: true,
    }) as middy.MiddlewareObj,
  ]
}
