import jsonPatch, { type Operation } from 'fast-json-patch'
import type { KubeObject } from '../../kube/types.js'
import type { SecretValuePolicy } from '../../secret-policy.js'
import { fromDocument, toDocument, type MappingContext } from '../documents/mapper.js'
import { isNewer } from '../documents/resource-version.js'
import { isSecretKind } from '../documents/secret-values.js'

/*
 * One document per observed version of an object (docs/history.md, issue 19):
 * `_id` `<cluster>/<uid>/<resourceVersion>`, so a replayed event is the same
 * document and inserts nothing new. `object` is mapped as the inventory's
 * (lib/store/documents/mapper.ts: managedFields dropped, keys encoded), except
 * that a Secret never keeps a value here, whatever SECRET_MODE says: history
 * keeps every version for long, so it gets the stricter policy.
 */

const { compare } = jsonPatch

export type HistoryType = 'ADDED' | 'MODIFIED' | 'DELETED'
export type HistorySource = 'watch' | 'reconcile'

export interface HistoryDocument {
  _id: string
  cluster: string
  /** The resource id (`v1/configmaps`, `apps/v1/deployments`). */
  resource: string
  apiVersion: string
  kind: string
  namespace: string | null
  name: string
  uid: string
  resourceVersion: string
  type: HistoryType
  observedAt: Date
  source: HistorySource
  /** False when versions before this one may be missing (a gap, a reconcile, history turned on late). */
  complete: boolean
  object: Record<string, unknown>
  /** RFC 6902 from the previous recorded version of this uid (encoded like `object`); [] for the first. */
  patch: Operation[]
}

/** One version as observed, in order. */
export interface ObservedVersion {
  readonly type: HistoryType
  readonly object: KubeObject
  /** The version recorded when it is not the object's own (a reconcile delete: the list's version). */
  readonly resourceVersion?: string
  /** When it was observed (a watch event's arrival); default: the context's. */
  readonly observedAt?: Date
}

/** What the inventory held of a uid before these versions were written. */
export interface StoredVersion {
  readonly resourceVersion: string
  /** The version last recorded in object_history for it; absent when history was off. */
  readonly historyResourceVersion?: string
  /** The inventory document's `object` (encoded). */
  readonly object: Record<string, unknown>
}

export interface HistoryContext {
  /** The inventory's mapping: cluster, apiVersion, kind and the Secret policy. */
  readonly mapping: MappingContext
  readonly resource: string
  readonly source: HistorySource
  /** When a version without its own `observedAt` was observed. */
  readonly observedAt: Date
}

/** `<cluster>/<uid>/<resourceVersion>`: one per version, so a duplicate delivery is the same document. */
export function historyIdOf(cluster: string, uid: string, resourceVersion: string): string {
  return `${cluster}/${uid}/${resourceVersion}`
}

/**
 * Secrets in history: metadata stays metadata; every other mode (plain and
 * hmac included) is stored as `redacted`, so no value nor digest of one is
 * ever kept in history.
 */
export function historySecretPolicy(policy: SecretValuePolicy): SecretValuePolicy {
  return policy.mode === 'metadata' ? policy : { ...policy, mode: 'redacted' }
}

/** The previous recorded version of a uid, as far as this call knows. */
interface Previous {
  readonly object: Record<string, unknown>
  /** The version it holds is in object_history (so a patch from it is exact). */
  readonly recorded: boolean
  /** Recorded by this very call (the event just before, in the same batch). */
  readonly inBatch: boolean
  readonly resourceVersion: string
}

/**
 * Builds the history documents of `versions` (in the order observed). The
 * first version of a uid is diffed against the inventory's stored object when
 * that one was recorded, each next against the version before it. A watch
 * version is complete when its predecessor is recorded and older (or it is
 * the ADDED of an object never stored); a reconcile version never is: what a
 * list finds changed, no watch recorded.
 */
export function historyDocuments(
  versions: readonly ObservedVersion[],
  stored: ReadonlyMap<string, StoredVersion>,
  ctx: HistoryContext,
): HistoryDocument[] {
  const mapping = { ...ctx.mapping, secrets: historySecretPolicy(ctx.mapping.secrets) }
  const last = new Map<string, Previous>()
  return versions.map((version) => {
    const observedAt = version.observedAt ?? ctx.observedAt
    const doc = toDocument(version.object, mapping, observedAt)
    const resourceVersion = version.resourceVersion ?? doc.resourceVersion
    const previous = last.get(doc.uid) ?? storedPrevious(stored.get(doc.uid), mapping)
    last.set(doc.uid, { object: doc.object, recorded: true, inBatch: true, resourceVersion })
    return {
      _id: historyIdOf(ctx.mapping.cluster, doc.uid, resourceVersion),
      cluster: doc.cluster,
      resource: ctx.resource,
      apiVersion: doc.apiVersion,
      kind: doc.kind,
      namespace: doc.namespace,
      name: doc.name,
      uid: doc.uid,
      resourceVersion,
      type: version.type,
      observedAt,
      source: ctx.source,
      complete: ctx.source === 'watch' && isComplete(version.type, resourceVersion, previous),
      object: doc.object,
      patch: previous?.recorded ? compare(previous.object, doc.object) : [],
    }
  })
}

function isComplete(type: HistoryType, resourceVersion: string, previous?: Previous): boolean {
  if (!previous) return type === 'ADDED'
  if (previous.inBatch) return true
  return previous.recorded && isNewer(resourceVersion, previous.resourceVersion)
}

/** The stored state as a predecessor; a Secret's is mapped again under the history policy. */
function storedPrevious(
  stored: StoredVersion | undefined,
  mapping: MappingContext,
): Previous | undefined {
  if (!stored) return undefined
  const object = isSecretKind(mapping.kind)
    ? toDocument(fromDocument(stored), mapping).object
    : stored.object
  return {
    object,
    recorded: stored.historyResourceVersion === stored.resourceVersion,
    inBatch: false,
    resourceVersion: stored.resourceVersion,
  }
}
