import { createHmac } from 'node:crypto'
import { registerSecretValue } from '../../redact.js'
import type { SecretValuePolicy } from '../../secret-policy.js'

export { isSecretKind, type SecretValuePolicy } from '../../secret-policy.js'

export const REDACTED = '<redacted>'

/**
 * HMAC, not a bare hash: a SHA-256 of a weak password is a password to anyone
 * with a wordlist; without the key the digest tells nothing. `data` values are
 * hashed as the bytes they encode, `stringData` as UTF-8, so one value hashes
 * the same wherever it appears.
 */
function hide(bytes: Buffer, policy: SecretValuePolicy): string {
  if (policy.mode !== 'hmac' || policy.hashKey === undefined) return REDACTED
  return `hmac-sha256:${createHmac('sha256', policy.hashKey).update(bytes).digest('hex')}`
}

/**
 * Every value the function saw goes to the redactor first, as served and as
 * decoded, so an error that quotes one (a server's message, a driver's) is
 * scrubbed before any log line, report or stored error
 * (docs/security.md#what-is-redacted-where).
 */
function registerSeen(map: unknown, toBytes: (value: string) => Buffer): void {
  if (map === null || typeof map !== 'object' || Array.isArray(map)) return
  for (const value of Object.values(map as Record<string, unknown>)) {
    if (typeof value !== 'string') continue
    registerSecretValue(value)
    const decoded = toBytes(value).toString('utf8')
    if (decoded !== value) registerSecretValue(decoded)
  }
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

const fromBase64 = (v: string) => Buffer.from(v, 'base64')
const fromUtf8 = (v: string) => Buffer.from(v, 'utf8')

/**
 * Annotations keep their keys; only the allowlisted keep their values. Any
 * other may hold a copy of the manifest: kubectl's
 * last-applied-configuration, another apply tool's, Helm's, a GitOps agent's.
 */
function hideAnnotations(
  metadata: Record<string, unknown>,
  policy: SecretValuePolicy,
): Record<string, unknown> {
  const annotations = metadata.annotations
  if (annotations === null || typeof annotations !== 'object' || Array.isArray(annotations)) {
    return metadata
  }
  const allowed = new Set(policy.annotationAllowlist)
  return {
    ...metadata,
    annotations: Object.fromEntries(
      Object.entries(annotations as Record<string, unknown>).map(([key, value]) => [
        key,
        allowed.has(key) ? value : REDACTED,
      ]),
    ),
  }
}

/**
 * What is stored of a Secret, by SECRET_MODE (docs/design.md#secret-values):
 * `metadata` keeps apiVersion, kind and metadata only (whatever the server
 * sent); `redacted` and `hmac` keep the keys of `data` and `stringData` with
 * each value hidden; all three hide the values of annotations outside the
 * allowlist. `plain` returns the object itself.
 */
export function hideSecretValues<T extends Record<string, unknown>>(
  secret: T,
  policy: SecretValuePolicy,
): T {
  if ('data' in secret) registerSeen(secret.data, fromBase64)
  if ('stringData' in secret) registerSeen(secret.stringData, fromUtf8)
  if (policy.mode === 'plain') return secret
  const metadata = (secret.metadata ?? {}) as Record<string, unknown>
  if (policy.mode === 'metadata') {
    const typeMeta = Object.fromEntries(
      Object.entries(secret).filter(([key]) => key === 'kind' || key === 'apiVersion'),
    )
    return { ...typeMeta, metadata: hideAnnotations(metadata, policy) } as unknown as T
  }
  const out: Record<string, unknown> = { ...secret, metadata: hideAnnotations(metadata, policy) }
  if ('data' in secret) out.data = hideMap(secret.data, fromBase64, policy)
  if ('stringData' in secret) out.stringData = hideMap(secret.stringData, fromUtf8, policy)
  return out as T
}
