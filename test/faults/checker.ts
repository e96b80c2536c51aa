import {
  KubernetesObjectApi,
  type KubeConfig,
  type KubernetesObject,
} from '@kubernetes/client-node'
import type { Db } from 'mongodb'

/*
 * The independent convergence checker. The cluster side is one fresh list per
 * scope through @kubernetes/client-node (no `limit`, so each is one consistent
 * read; not our pager); the MongoDB side is every document of the cluster in
 * the resource's collection, read by the test's own client. Collection names
 * and the document contract are docs/design.md's, written out here, not imported.
 */

export interface Target {
  /** `v1/configmaps`, `example.com/v1/widgets`. */
  readonly resource: string
  readonly kind: string
  /** The namespaces the scenario synced; absent = the whole cluster. */
  readonly namespaces?: readonly string[]
  /** Secrets only: the SECRET_MODE the scenario ran with; default `metadata`, the functions' default. */
  readonly secretMode?: 'metadata' | 'redacted' | 'hmac'
}

export interface Divergence {
  readonly resource: string
  readonly live: number
  readonly stored: number
  /** Live uids without a document. */
  readonly lost: string[]
  /** Documents whose resourceVersion differs from the live one. */
  readonly stale: string[]
  /** Documents of no live object in scope. */
  readonly extra: string[]
  /** Documents breaking the contract (_id, cluster, uid fields). */
  readonly malformed: string[]
  /** Secret values found in MongoDB, in plain text or base64 (always empty for other kinds). */
  readonly secretLeaks: string[]
}

export const isConverged = (d: Divergence) =>
  d.lost.length === 0 &&
  d.stale.length === 0 &&
  d.extra.length === 0 &&
  d.malformed.length === 0 &&
  d.secretLeaks.length === 0

export function collectionOf(resource: string): string {
  const parts = resource.split('/')
  if (parts.length === 2) return parts[1]!
  return `${parts[2]}.${parts[0]}`
}

export function apiVersionOf(resource: string): string {
  const parts = resource.split('/')
  return parts.length === 2 ? parts[0]! : `${parts[0]}/${parts[1]}`
}

interface StoredDoc {
  _id: string
  cluster: string
  uid: string
  resourceVersion: string
  namespace: string | null
  object?: {
    data?: Record<string, unknown>
    stringData?: Record<string, unknown>
    metadata?: { annotations?: Record<string, unknown> }
  }
}

const redactedValue = /^(<redacted>|hmac-sha256:[0-9a-f]{64})$/

/**
 * docs/design.md#secret-values: the annotations whose values a stored Secret
 * keeps by default (keys stored percent-encoded, docs/design.md#key-encoding);
 * every other value is `<redacted>`.
 */
const keptAnnotations = new Set([
  'kubernetes%2Eio/service-account%2Ename',
  'kubernetes%2Eio/service-account%2Euid',
  'meta%2Ehelm%2Esh/release-name',
  'meta%2Ehelm%2Esh/release-namespace',
])

export async function liveObjects(
  kc: KubeConfig,
  target: Target,
): Promise<Map<string, KubernetesObject & { data?: Record<string, string> }>> {
  const api = KubernetesObjectApi.makeApiClient(kc)
  const live = new Map<string, KubernetesObject & { data?: Record<string, string> }>()
  const scopes = target.namespaces ?? [undefined]
  for (const namespace of scopes) {
    const list = await api.list(apiVersionOf(target.resource), target.kind, namespace)
    for (const item of list.items) live.set(item.metadata!.uid!, item)
  }
  return live
}

export async function divergence(
  kc: KubeConfig,
  db: Db,
  cluster: string,
  target: Target,
): Promise<Divergence> {
  const live = await liveObjects(kc, target)
  const docs = await db
    .collection<StoredDoc>(collectionOf(target.resource))
    .find({ cluster })
    .toArray()
  const stored = new Map<string, StoredDoc>()
  const malformed: string[] = []
  for (const doc of docs) {
    if (doc._id !== `${cluster}/${doc.uid}` || typeof doc.resourceVersion !== 'string')
      malformed.push(doc._id)
    if (stored.has(doc.uid)) malformed.push(`${doc._id} (duplicate uid)`)
    stored.set(doc.uid, doc)
  }
  const secretLeaks =
    target.kind === 'Secret' ? leaksOf(live, docs, target.secretMode ?? 'metadata') : []
  return {
    resource: target.resource,
    live: live.size,
    stored: stored.size,
    lost: [...live.keys()].filter((uid) => !stored.has(uid)),
    stale: [...live]
      .filter(
        ([uid, o]) =>
          stored.has(uid) && stored.get(uid)!.resourceVersion !== o.metadata!.resourceVersion,
      )
      .map(([uid]) => uid),
    extra: [...stored.keys()].filter((uid) => !live.has(uid)),
    malformed,
    secretLeaks,
  }
}

/**
 * In metadata mode a stored Secret is its apiVersion, kind and metadata only;
 * otherwise every stored value is redacted or an HMAC. In every mode each
 * annotation value outside the allowlist is `<redacted>`, and no live value
 * may appear anywhere in a document.
 */
function leaksOf(
  live: Map<string, { data?: Record<string, string> }>,
  docs: readonly StoredDoc[],
  mode: NonNullable<Target['secretMode']>,
): string[] {
  const leaks: string[] = []
  const needles = new Set<string>()
  for (const secret of live.values()) {
    for (const b64 of Object.values(secret.data ?? {})) {
      if (b64.length >= 8) needles.add(b64)
      const plain = Buffer.from(b64, 'base64').toString('utf8')
      if (plain.length >= 8 && !plain.includes('\uFFFD')) needles.add(plain)
    }
  }
  for (const doc of docs) {
    const fields = Object.keys(doc.object ?? {}).filter(
      (k) => !['kind', 'apiVersion', 'metadata'].includes(k),
    )
    if (mode === 'metadata' && fields.length > 0)
      leaks.push(`${doc._id} holds more than metadata (${fields.join(', ')})`)
    for (const [key, value] of Object.entries(doc.object?.metadata?.annotations ?? {})) {
      if (!keptAnnotations.has(key) && value !== '<redacted>')
        leaks.push(`${doc._id} annotation ${key} is not redacted`)
    }
    for (const field of ['data', 'stringData'] as const) {
      for (const [key, value] of Object.entries(doc.object?.[field] ?? {})) {
        if (typeof value !== 'string' || !redactedValue.test(value))
          leaks.push(`${doc._id} ${field}.${key} is not redacted`)
      }
    }
    const text = JSON.stringify(doc)
    for (const needle of needles) {
      if (text.includes(needle) || text.includes(JSON.stringify(needle).slice(1, -1)))
        leaks.push(`${doc._id} holds a live Secret value`)
    }
  }
  return leaks
}
