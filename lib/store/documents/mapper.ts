import type { KubeObject } from '../../kube/types.js'
import { decodeKeys, encodeKeys } from './key-encoding.js'
import { hideSecretValues, isSecretKind, type SecretValuePolicy } from './secret-values.js'

/** One document per live object (docs/design.md#inventory-documents). */
export interface InventoryDocument {
  _id: string
  cluster: string
  apiVersion: string
  kind: string
  namespace: string | null
  name: string
  uid: string
  resourceVersion: string
  object: Record<string, unknown>
  labels: Array<{ key: string; value: string }>
  syncedAt: Date
  /**
   * Of a resource under HISTORY_RESOURCES only: the resourceVersion last
   * recorded in object_history for it (lib/store/history/). Equal to
   * `resourceVersion` when the stored version was recorded.
   */
  historyResourceVersion?: string
}

/** What the mapper needs to know besides the object itself. */
export interface MappingContext {
  readonly cluster: string
  /** As discovery serves it (`v1`, `apps/v1`): list items carry no apiVersion of their own. */
  readonly apiVersion: string
  readonly kind: string
  /** SECRET_MODE, its HMAC key and the annotation allowlist: applied to any kind named Secret. */
  readonly secrets: SecretValuePolicy
  /**
   * The resource keeps history: every write of it follows the history insert
   * of the same version (lib/store/history/history-writer.ts), so the
   * document says that its version is recorded.
   */
  readonly history?: boolean
}

/** docs/design.md: `_id` is `<cluster>/<metadata.uid>`; uids are unique per cluster and never reused. */
export function documentIdOf(cluster: string, uid: string): string {
  return `${cluster}/${uid}`
}

/** The uid part of a document `_id` (the inverse of documentIdOf for one cluster). */
export function uidOfDocumentId(cluster: string, id: string): string {
  const prefix = `${cluster}/`
  return id.startsWith(prefix) ? id.slice(prefix.length) : id
}

function withoutManagedFields(object: KubeObject): Record<string, unknown> {
  // managedFields are server-side-apply bookkeeping: large, churning, and of no use to an inventory.
  const { managedFields: _dropped, ...metadata } = object.metadata
  return { ...object, metadata }
}

function labelsOf(object: KubeObject): Array<{ key: string; value: string }> {
  return Object.entries(object.metadata.labels ?? {}).map(([key, value]) => ({ key, value }))
}

/** The stored document for one served object (docs/design.md#data-contract). */
export function toDocument(
  object: KubeObject,
  ctx: MappingContext,
  now: Date = new Date(),
): InventoryDocument {
  const { metadata } = object
  const apiVersion = ctx.apiVersion || object.apiVersion || ''
  const kind = ctx.kind || object.kind || ''
  let served = withoutManagedFields(object)
  if (isSecretKind(kind)) served = hideSecretValues(served, ctx.secrets)
  return {
    _id: documentIdOf(ctx.cluster, metadata.uid),
    cluster: ctx.cluster,
    apiVersion,
    kind,
    namespace: metadata.namespace ?? null,
    name: metadata.name,
    uid: metadata.uid,
    resourceVersion: metadata.resourceVersion,
    object: encodeKeys(served),
    labels: labelsOf(object),
    syncedAt: now,
    ...(ctx.history ? { historyResourceVersion: metadata.resourceVersion } : {}),
  }
}

/** The object as served (minus managedFields, and minus what SECRET_MODE hides of a Secret). */
export function fromDocument(document: Pick<InventoryDocument, 'object'>): KubeObject {
  return decodeKeys(document.object) as KubeObject
}
