import type { Config } from '../config.js'
import { SyncError } from '../errors.js'
import { registerSecret } from '../redact.js'
import { parseMongoSecret, registerUriSecrets } from '../store/connection/secret.js'
import type { SecretValuePolicy } from '../secret-policy.js'

/** Secret values fetched for this invocation (middy's secrets-manager middleware), by role. */
export interface FetchedSecrets {
  readonly mongodb?: unknown
  readonly kubeconfig?: unknown
  readonly hashKey?: unknown
}

export type SecretRole = keyof FetchedSecrets

/** middy parses JSON secrets; the parsers want the text as stored. */
export function secretText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value)
}

/** The MongoDB connection string: MONGODB_SECRET_ID wins over MONGODB_URI. */
export function mongoUri(config: Config, secrets: FetchedSecrets): string {
  const { secretId, uri } = config.mongodb
  if (secretId) {
    if (secrets.mongodb === undefined) {
      throw new SyncError(`MONGODB_SECRET_ID ${secretId} was not fetched`, {
        context: { secretId },
      })
    }
    return parseMongoSecret(secretText(secrets.mongodb), secretId)
  }
  if (uri) {
    // From the environment (local runs): its password is redacted like a fetched one's.
    registerUriSecrets(uri)
    return uri
  }
  throw new SyncError('No MongoDB connection: set MONGODB_SECRET_ID or MONGODB_URI')
}

/** The HMAC key for Secret values: SECRET_HASH_KEY_SECRET_ID wins over SECRET_HASH_KEY. */
export function secretHashKey(config: Config, secrets: FetchedSecrets): string | undefined {
  const { hashKeySecretId, hashKey } = config.secrets
  if (!hashKeySecretId) {
    registerSecret(hashKey)
    return hashKey
  }
  const text = secrets.hashKey === undefined ? '' : secretText(secrets.hashKey).trim()
  if (text.length < 16) {
    throw new SyncError(
      `SECRET_HASH_KEY_SECRET_ID ${hashKeySecretId} must hold a key of at least 16 characters`,
      { context: { secretId: hashKeySecretId } },
    )
  }
  registerSecret(text)
  return text
}

/**
 * What is kept of a Secret (docs/design.md#secret-values). The configuration
 * has checked that `hmac` has a key; the key itself may come from Secrets
 * Manager, so it is resolved here, per invocation.
 */
export function secretValuePolicy(config: Config, secrets: FetchedSecrets): SecretValuePolicy {
  const { mode, annotationAllowlist } = config.secrets
  const hashKey = mode === 'hmac' ? secretHashKey(config, secrets) : undefined
  if (mode === 'hmac' && hashKey === undefined) {
    throw new SyncError('SECRET_MODE=hmac needs SECRET_HASH_KEY_SECRET_ID or SECRET_HASH_KEY')
  }
  return { mode, hashKey, annotationAllowlist }
}
