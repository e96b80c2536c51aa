import { createHmac } from 'node:crypto'

/** How Secret values are stored (SYNC_SECRET_DATA, SECRET_HASH_KEY). */
export interface SecretValuePolicy {
  readonly syncData: boolean
  readonly hashKey: string | undefined
}

export const REDACTED = '<redacted>'

/**
 * `kubectl apply` copies the whole manifest, `data` included, into this
 * annotation: storing it would store every value the redaction removed.
 */
const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration'

/** Only core Secrets hold credentials by contract; anything else named Secret is a CRD. */
export function isCoreSecret(apiVersion: string, kind: string): boolean {
  return apiVersion === 'v1' && kind === 'Secret'
}

/**
 * HMAC, not a bare hash: a SHA-256 of a weak password is a password to anyone
 * with a wordlist; without the key the digest tells nothing. `data` values are
 * hashed as the bytes they encode, `stringData` as UTF-8, so one value hashes
 * the same wherever it appears.
 */
function hide(bytes: Buffer, policy: SecretValuePolicy): string {
  if (policy.hashKey === undefined) return REDACTED
  return `hmac-sha256:${createHmac('sha256', policy.hashKey).update(bytes).digest('hex')}`
}

function hideMap(
  map: unknown,
  toBytes: (value: string) => Buffer,
  policy: SecretValuePolicy,
): unknown {
  if (map === null || typeof map !== 'object' || Array.isArray(map)) return map
  return Object.fromEntries(
    Object.entries(map as Record<string, unknown>).map(([key, value]) => [
      key,
      typeof value === 'string' ? hide(toBytes(value), policy) : REDACTED,
    ]),
  )
}

/**
 * A copy of a Secret with every value of `data` and `stringData` replaced
 * (keys kept), and the last-applied annotation hidden the same way. Returns
 * the object itself when values are to be synced.
 */
export function hideSecretValues<T extends Record<string, unknown>>(
  secret: T,
  policy: SecretValuePolicy,
): T {
  if (policy.syncData) return secret
  const out: Record<string, unknown> = { ...secret }
  if ('data' in secret) out.data = hideMap(secret.data, (v) => Buffer.from(v, 'base64'), policy)
  if ('stringData' in secret)
    out.stringData = hideMap(secret.stringData, (v) => Buffer.from(v, 'utf8'), policy)
  const metadata = secret.metadata as Record<string, unknown> | undefined
  const annotations = metadata?.annotations as Record<string, unknown> | undefined
  if (metadata && annotations && LAST_APPLIED_ANNOTATION in annotations) {
    out.metadata = {
      ...metadata,
      annotations: { ...annotations, [LAST_APPLIED_ANNOTATION]: REDACTED },
    }
  }
  return out as T
}
