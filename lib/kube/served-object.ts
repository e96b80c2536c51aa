import { createHash } from 'node:crypto'
import type { KubeObject, RefusedObject } from './types.js'

/*
 * The one check every listed and watched object passes before the sync sees
 * it (docs/security.md#bounded-input). uid, name and resourceVersion go into
 * MongoDB filters and `_id`s: a value such as `{"$gt": ""}` there would be an
 * operator, not a value. The API server always sends non-empty strings, so
 * anything else is a server, proxy or storage we must not trust; it is
 * refused (and dead-lettered by the sync), never written and never deleted on.
 */

/** Longest uid, name, namespace or resourceVersion taken (a uid is 36, a name at most 253). */
export const MAX_IDENTITY_CHARS = 1024

export type ServedObjectCheck =
  | { readonly object: KubeObject; readonly refused?: undefined }
  | { readonly refused: RefusedObject; readonly object?: undefined }

type Field = 'uid' | 'name' | 'resourceVersion' | 'namespace'

/** A usable identity string, or why not. */
function identity(value: unknown, field: Field): { value?: string; problem?: string } {
  if (typeof value !== 'string' || value === '')
    return { problem: `metadata.${field} missing or not a non-empty string` }
  if (value.length > MAX_IDENTITY_CHARS)
    return { problem: `metadata.${field} longer than ${MAX_IDENTITY_CHARS} characters` }
  return { value }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

/**
 * The object as the sync may take it, or why it is refused. `namespace` may
 * be absent (cluster-scoped), but when present it is a usable string too.
 */
export function checkServedObject(value: unknown): ServedObjectCheck {
  if (!isRecord(value)) return { refused: refusal(value, {}, ['not a JSON object']) }
  const metadata = value.metadata
  if (!isRecord(metadata))
    return { refused: refusal(value, {}, ['metadata missing or not an object']) }
  const found: Partial<Record<Field, string>> = {}
  const problems: string[] = []
  for (const field of ['uid', 'name', 'resourceVersion'] as const) {
    const { value: usable, problem } = identity(metadata[field], field)
    if (usable !== undefined) found[field] = usable
    if (problem) problems.push(problem)
  }
  if (metadata.namespace !== undefined) {
    const { value: usable, problem } = identity(metadata.namespace, 'namespace')
    if (usable !== undefined) found.namespace = usable
    if (problem) problems.push(problem)
  }
  if (problems.length > 0) return { refused: refusal(value, found, problems) }
  return { object: value as KubeObject }
}

function refusal(
  value: unknown,
  found: Partial<Record<Field, string>>,
  problems: readonly string[],
): RefusedObject {
  return { key: found.uid ?? contentKey(value), ...found, reason: problems.join('; ') }
}

/** The same served content gives the same key, so a refusal repeated by every run is one dead letter. */
function contentKey(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value)
  return `invalid:${createHash('sha256').update(text).digest('hex').slice(0, 32)}`
}
