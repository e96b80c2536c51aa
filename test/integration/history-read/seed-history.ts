/**
 * object_history documents shaped exactly as the contract says (issue 19,
 * docs/history.md), built here from served objects so that the read path is
 * tested without the write path: `object` encoded by the inventory's key
 * encoding, `patch` = fast-json-patch `compare` of the previous recorded
 * version's encoded object with this one ([] for the first).
 */
import jsonPatch from 'fast-json-patch'
import type { Db } from 'mongodb'
import type { HistoryVersion } from '../../../lib/history-query/types.js'
import { HISTORY_COLLECTION } from '../../../lib/history-query/types.js'
import { encodeKeys } from '../../../lib/store/documents/key-encoding.js'

export interface SeedStep {
  readonly at: Date
  readonly rv: string
  readonly type: HistoryVersion['type']
  /** The object as served (metadata.resourceVersion is set from `rv`). */
  readonly object: Record<string, unknown> & { metadata: Record<string, unknown> }
  readonly source?: HistoryVersion['source']
  readonly complete?: boolean
  /** Force an empty patch (history turned on late: no previous recorded version). */
  readonly noPatch?: boolean
}

export interface SeedObject {
  readonly cluster: string
  readonly resource: string
  readonly uid: string
  readonly steps: readonly SeedStep[]
}

/** The documents of one uid's versions, each patched from the one before. */
export function historyDocuments(seed: SeedObject): HistoryVersion[] {
  let previous: Record<string, unknown> | undefined
  return seed.steps.map((step) => {
    const served: Record<string, unknown> & { metadata: Record<string, unknown> } = {
      ...step.object,
      metadata: { ...step.object.metadata, uid: seed.uid, resourceVersion: step.rv },
    }
    const object = encodeKeys(served)
    const patch = previous && !step.noPatch ? jsonPatch.compare(previous, object) : []
    previous = object
    const metadata = served.metadata as unknown as { name: string; namespace?: string }
    return {
      _id: `${seed.cluster}/${seed.uid}/${step.rv}`,
      cluster: seed.cluster,
      resource: seed.resource,
      apiVersion: String(served.apiVersion),
      kind: String(served.kind),
      namespace: metadata.namespace ?? null,
      name: metadata.name,
      uid: seed.uid,
      resourceVersion: step.rv,
      type: step.type,
      observedAt: step.at,
      source: step.source ?? 'watch',
      complete: step.complete ?? true,
      object,
      patch,
    }
  })
}

/** The contract's indexes (docs/history.md#what-is-recorded), so the queries run as they would in production. */
export async function createContractIndexes(db: Db): Promise<void> {
  const history = db.collection(HISTORY_COLLECTION)
  await history.createIndex({ cluster: 1, resource: 1, namespace: 1, name: 1, observedAt: -1 })
  await history.createIndex({ cluster: 1, uid: 1, observedAt: -1 })
  await history.createIndex({ resource: 1, observedAt: -1 })
}

export async function seedHistory(db: Db, seeds: readonly SeedObject[]): Promise<HistoryVersion[]> {
  const documents = seeds.flatMap(historyDocuments)
  await createContractIndexes(db)
  await db.collection<HistoryVersion>(HISTORY_COLLECTION).insertMany(documents)
  return documents
}

/** 2026-11-28 at hh:mm UTC: the example day. */
export const at = (hhmm: string) => new Date(`2026-11-28T${hhmm}:00.000Z`)

export function deployment(
  namespace: string,
  name: string,
  spec: { replicas: number; image: string; labels?: Record<string, string> },
) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace, labels: { 'app.kubernetes.io/name': name, ...spec.labels } },
    spec: {
      replicas: spec.replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'main', image: spec.image }] },
      },
    },
  }
}

export function configMap(namespace: string, name: string, data: Record<string, string>) {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace }, data }
}
