import {
  GetSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager'
import { SyncError } from '../errors.js'
import { registerSecret } from '../redact.js'
import { refreshingValue } from './refreshing-value.js'

/** How long a warm container reuses a fetched secret before asking again. */
export const SECRET_CACHE_TTL_MS = 5 * 60 * 1000

export interface SecretStringOptions {
  /** The secret's region; the function's (AWS_REGION) when absent. */
  readonly region?: string
  readonly cacheTtlMs?: number
  readonly now?: () => number
}

/** Per container: a cluster registry and its kubeconfigs are fetched once per TTL, not per task. */
const cache = new Map<string, () => Promise<string>>()

/**
 * The text of a Secrets Manager secret (CLUSTERS_SECRET_ID, a cluster's
 * kubeconfigSecretId). It is registered with the redactor, since it holds
 * credentials. A missing secret, or one holding only binary data, is an
 * error naming the secret.
 */
export function fetchSecretString(
  secretId: string,
  options: SecretStringOptions = {},
): Promise<string> {
  const ttl = options.cacheTtlMs ?? SECRET_CACHE_TTL_MS
  const key = `${options.region ?? ''}\u0000${ttl}\u0000${secretId}`
  let get = cache.get(key)
  if (!get) {
    const now = options.now ?? Date.now
    const load = async () => {
      const value = await getSecretString(secretId, options.region)
      return { value, expiresAt: now() + ttl }
    }
    get = refreshingValue(load, { what: `secret ${secretId}`, now })
    cache.set(key, get)
  }
  return get()
}

/** Forgets every cached secret (tests; a container never needs it). */
export function clearSecretStringCache(): void {
  cache.clear()
}

async function getSecretString(secretId: string, region: string | undefined): Promise<string> {
  const context = { operation: 'secretsmanager:GetSecretValue', secretId }
  const client = new SecretsManagerClient(region ? { region } : {})
  try {
    const response = await client.send(new GetSecretValueCommand({ SecretId: secretId }))
    if (response.SecretString === undefined) {
      throw new SyncError(`secret ${secretId} holds binary data, not text`, { context })
    }
    registerSecret(response.SecretString)
    return response.SecretString
  } catch (error) {
    if (error instanceof SyncError) throw error
    if (error instanceof ResourceNotFoundException) {
      throw new SyncError(`secret ${secretId} does not exist`, { context, cause: error })
    }
    throw new SyncError(
      `secretsmanager:GetSecretValue ${secretId} failed: ${(error as Error).message}`,
      {
        context,
        cause: error,
      },
    )
  } finally {
    client.destroy()
  }
}
