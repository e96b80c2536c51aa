import { KubeApiError } from '../../../../lib/kube/errors.js'
import type { ListPageRequest, RawList } from '../../../../lib/kube/operations.js'
import type { KubeObject } from '../../../../lib/kube/types.js'
import { configMap } from './resources.js'

/**
 * An in-memory list endpoint that enforces the API server's paging rules
 * (k8s.io/apiserver storage/etcd3 + ListOptions validation):
 *  - a list without `continue` is a consistent read at the current revision;
 *    every page of it is served from that one snapshot, with its resourceVersion;
 *  - `continue` together with `resourceVersion` is a 400;
 *  - after compact(), a token older than the compaction is 410 Expired, with
 *    an inconsistent continue token (same position, current revision) in
 *    `metadata.continue`.
 */
export class FakeListServer {
  readonly requests: ListPageRequest[] = []
  private revision = 100
  private compactedAt = 0
  private readonly live = new Map<string, KubeObject>()
  private readonly snapshots = new Map<number, KubeObject[]>()
  private readonly failures: Array<(request: ListPageRequest) => Error | undefined> = []

  constructor(namespaces: Record<string, number> = {}) {
    for (const [namespace, count] of Object.entries(namespaces)) {
      for (let i = 0; i < count; i++)
        this.put(configMap(`cm-${String(i).padStart(4, '0')}`, namespace, ''))
    }
  }

  /** The ListPageFn under test. */
  readonly list = async (request: ListPageRequest): Promise<RawList> => {
    await Promise.resolve()
    this.requests.push(request)
    const injected = this.failures.length > 0 ? this.failures[0]!(request) : undefined
    if (injected) {
      this.failures.shift()
      throw injected
    }
    if (request.continueToken && request.resourceVersion) {
      throw status(
        400,
        'BadRequest',
        'specifying resource version is not allowed when using continue',
      )
    }
    if (request.resourceVersionMatch && !request.resourceVersion) {
      throw status(
        400,
        'BadRequest',
        'resourceVersionMatch is forbidden unless resourceVersion is provided',
      )
    }
    if (!(request.limit > 0)) throw status(400, 'BadRequest', 'limit must be positive')

    let rv = this.revision
    let offset = 0
    if (request.continueToken) {
      ;({ rv, offset } = decodeToken(request.continueToken))
      if (rv < this.compactedAt) {
        this.snapshotAt(this.revision, undefined)
        const inconsistent = encodeToken(this.revision, offset, request.namespace)
        throw status(410, 'Expired', 'The provided continue parameter is too old', {
          continue: inconsistent,
        })
      }
    }
    const snapshot = this.snapshotAt(rv, request.namespace)
    const items = snapshot.slice(offset, offset + request.limit)
    const next = offset + items.length
    return {
      items: items.map((o) => structuredClone(o)),
      metadata: {
        resourceVersion: String(rv),
        ...(next < snapshot.length ? { continue: encodeToken(rv, next, request.namespace) } : {}),
      },
    }
  }

  put(object: KubeObject): KubeObject {
    this.revision++
    const stored = {
      ...object,
      metadata: { ...object.metadata, resourceVersion: String(this.revision) },
    }
    this.live.set(stored.metadata.uid, stored)
    return stored
  }

  remove(uid: string): void {
    this.revision++
    this.live.delete(uid)
  }

  /**
   * etcd compaction after some other write: revisions before the current one
   * are gone, so every continue token issued so far expires.
   */
  compact(): void {
    this.revision++
    this.compactedAt = this.revision
  }

  /** The next request that `when` matches fails with `error` (once). */
  failOnce(error: Error, when: (request: ListPageRequest) => boolean = () => true): void {
    this.failures.push((request) => (when(request) ? error : undefined))
  }

  get resourceVersion(): string {
    return String(this.revision)
  }

  liveUids(namespace?: string): string[] {
    return [...this.live.values()]
      .filter((o) => namespace === undefined || o.metadata.namespace === namespace)
      .map((o) => o.metadata.uid)
  }

  private snapshotAt(rv: number, namespace: string | undefined): KubeObject[] {
    let all = this.snapshots.get(rv)
    if (!all) {
      // Only the current revision can be read for the first time: a snapshot is taken when a list starts.
      if (rv !== this.revision) throw new Error(`fake: no snapshot at ${rv}`)
      all = [...this.live.values()].sort((a, b) => key(a).localeCompare(key(b)))
      this.snapshots.set(rv, all)
    }
    return namespace === undefined ? all : all.filter((o) => o.metadata.namespace === namespace)
  }
}

function key(o: KubeObject): string {
  return `${o.metadata.namespace ?? ''}/${o.metadata.name}`
}

function encodeToken(rv: number, offset: number, namespace: string | undefined): string {
  return Buffer.from(JSON.stringify({ rv, offset, namespace })).toString('base64')
}

function decodeToken(token: string): { rv: number; offset: number } {
  return JSON.parse(Buffer.from(token, 'base64').toString()) as { rv: number; offset: number }
}

export function status(
  code: number,
  reason: string,
  message: string,
  metadata: Record<string, string> = {},
  headers: Record<string, string> = {},
): KubeApiError {
  const body = {
    kind: 'Status',
    apiVersion: 'v1',
    metadata,
    status: 'Failure',
    message,
    reason,
    code,
  }
  return new KubeApiError('list v1/configmaps', code, body, headers)
}
