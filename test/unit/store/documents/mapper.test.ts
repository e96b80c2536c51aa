import { describe, expect, it } from 'vitest'
import type { KubeObject } from '../../../../lib/kube/types.js'
import {
  fromDocument,
  toDocument,
  type MappingContext,
} from '../../../../lib/store/documents/mapper.js'

const now = new Date('2025-01-02T03:04:05Z')
const podCtx: MappingContext = {
  cluster: 'prod',
  apiVersion: 'v1',
  kind: 'Pod',
  secrets: { mode: 'redacted' as const, hashKey: undefined, annotationAllowlist: [] },
}

const pod = (): KubeObject => ({
  metadata: {
    name: 'web-1',
    namespace: 'shop',
    uid: 'u-1',
    resourceVersion: '42',
    labels: { 'app.kubernetes.io/name': 'web', tier: 'front' },
    managedFields: [{ manager: 'kubectl' }],
  },
  spec: { containers: [{ name: 'c', env: [{ name: 'A.B', value: '1' }] }] },
})

describe('document mapping', () => {
  it('fills every field of the data contract', () => {
    const doc = toDocument(pod(), podCtx, now)
    expect(doc).toMatchObject({
      _id: 'prod/u-1',
      cluster: 'prod',
      apiVersion: 'v1',
      kind: 'Pod',
      namespace: 'shop',
      name: 'web-1',
      uid: 'u-1',
      resourceVersion: '42',
      labels: [
        { key: 'app.kubernetes.io/name', value: 'web' },
        { key: 'tier', value: 'front' },
      ],
      syncedAt: now,
    })
  })

  it('drops managedFields and encodes keys inside object only', () => {
    const doc = toDocument(pod(), podCtx, now)
    const metadata = doc.object.metadata as Record<string, unknown>
    expect(metadata.managedFields).toBeUndefined()
    expect(metadata.labels).toEqual({ 'app%2Ekubernetes%2Eio/name': 'web', tier: 'front' })
  })

  it('gives back the served object minus managedFields', () => {
    const served = pod()
    const { managedFields: _m, ...metadata } = served.metadata
    expect(JSON.stringify(fromDocument(toDocument(served, podCtx, now)))).toBe(
      JSON.stringify({ ...served, metadata }),
    )
  })

  it('stores null as the namespace of a cluster-scoped object and an empty label list without labels', () => {
    const node: KubeObject = { metadata: { name: 'n1', uid: 'u-n', resourceVersion: '7' } }
    const doc = toDocument(node, { ...podCtx, kind: 'Node' }, now)
    expect(doc.namespace).toBeNull()
    expect(doc.labels).toEqual([])
  })

  it('stores no Secret value', () => {
    const secret: KubeObject = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 's', namespace: 'd', uid: 'u-s', resourceVersion: '1' },
      data: { '.dockerconfigjson': Buffer.from('plain-credential').toString('base64') },
    }
    const doc = toDocument(secret, { ...podCtx, kind: 'Secret' }, now)
    expect(doc.object.data).toEqual({ '%2Edockerconfigjson': '<redacted>' })
    expect(JSON.stringify(doc)).not.toContain(Buffer.from('plain-credential').toString('base64'))
  })
})
