import jsonPatch from 'fast-json-patch'
import { describe, expect, it } from 'vitest'
import type { KubeObject } from '../../../../lib/kube/types.js'
import { toDocument, type MappingContext } from '../../../../lib/store/documents/mapper.js'
import {
  historyDocuments,
  type HistoryContext,
  type StoredVersion,
} from '../../../../lib/store/history/history-document.js'

const mapping: MappingContext = {
  cluster: 'c1',
  apiVersion: 'v1',
  kind: 'ConfigMap',
  secrets: { mode: 'plain', hashKey: undefined, annotationAllowlist: [] },
  history: true,
}
const at = new Date('2026-12-01T10:00:00Z')
const watch: HistoryContext = {
  mapping,
  resource: 'v1/configmaps',
  source: 'watch',
  observedAt: at,
}

function configMap(rv: string, data: Record<string, string>, uid = 'u1'): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: 'web',
      namespace: 'shop',
      uid,
      resourceVersion: rv,
      managedFields: [{ manager: 'kubectl' }],
    },
    data,
  }
}

function stored(object: KubeObject, recorded: boolean): StoredVersion {
  const doc = toDocument(object, mapping)
  return {
    resourceVersion: doc.resourceVersion,
    object: doc.object,
    ...(recorded ? { historyResourceVersion: doc.resourceVersion } : {}),
  }
}

describe('history documents', () => {
  it('keys each version by cluster, uid and resourceVersion, with the inventory’s encoding and no managedFields', () => {
    const [doc] = historyDocuments(
      [{ type: 'ADDED', object: configMap('10', { 'nginx.conf': 'a' }) }],
      new Map(),
      watch,
    )
    expect(doc).toMatchObject({
      _id: 'c1/u1/10',
      cluster: 'c1',
      resource: 'v1/configmaps',
      apiVersion: 'v1',
      kind: 'ConfigMap',
      namespace: 'shop',
      name: 'web',
      uid: 'u1',
      resourceVersion: '10',
      type: 'ADDED',
      source: 'watch',
      observedAt: at,
      complete: true,
      patch: [],
    })
    expect(doc!.object).toEqual(toDocument(configMap('10', { 'nginx.conf': 'a' }), mapping).object)
    expect(JSON.stringify(doc!.object)).not.toContain('managedFields')
    expect(doc).not.toHaveProperty('historyResourceVersion')
  })

  it('diffs the first event against the recorded stored object, each next against the event before, and the patches rebuild the last', () => {
    const versions = ['11', '12', '13', '14', '15'].map((rv, i) => ({
      type: 'MODIFIED' as const,
      object: configMap(rv, { 'nginx.conf': `v${i + 1}`, [`k${i}`]: 'x' }),
    }))
    const first = configMap('10', { 'nginx.conf': 'v0' })
    const docs = historyDocuments(versions, new Map([['u1', stored(first, true)]]), watch)

    expect(docs.map((d) => d.complete)).toEqual([true, true, true, true, true])
    expect(docs[0]!.patch).toEqual(
      jsonPatch.compare(toDocument(first, mapping).object, docs[0]!.object),
    )
    expect(docs[1]!.patch).toEqual(
      expect.arrayContaining([
        { op: 'replace', path: '/metadata/resourceVersion', value: '12' },
        { op: 'replace', path: '/data/nginx%2Econf', value: 'v2' },
        { op: 'remove', path: '/data/k0' },
        { op: 'add', path: '/data/k1', value: 'x' },
      ]),
    )
    expect(docs[1]!.patch).toHaveLength(4)
    let object = docs[0]!.object
    for (const doc of docs.slice(1))
      object = jsonPatch.applyPatch(object, doc.patch, true, false).newDocument
    expect(object).toEqual(docs[4]!.object)
  })

  it('dates each version when it was observed, or when recorded if the caller does not know', () => {
    const arrived = new Date('2026-12-01T09:59:59.123Z')
    const docs = historyDocuments(
      [
        { type: 'ADDED', object: configMap('10', { a: '1' }), observedAt: arrived },
        { type: 'MODIFIED', object: configMap('11', { a: '2' }) },
      ],
      new Map(),
      watch,
    )
    expect(docs.map((d) => d.observedAt)).toEqual([arrived, at])
  })

  it('marks the first version incomplete, with no patch, when the stored version was never recorded', () => {
    const docs = historyDocuments(
      [{ type: 'MODIFIED', object: configMap('11', { a: '2' }) }],
      new Map([['u1', stored(configMap('10', { a: '1' }), false)]]),
      watch,
    )
    expect(docs[0]).toMatchObject({ complete: false, patch: [] })
  })

  it('marks a version incomplete when the stored one it follows is not older (a gap, a replay)', () => {
    const docs = historyDocuments(
      [{ type: 'MODIFIED', object: configMap('11', { a: '2' }) }],
      new Map([['u1', stored(configMap('20', { a: '9' }), true)]]),
      watch,
    )
    expect(docs[0]!.complete).toBe(false)
  })

  it('marks a MODIFIED of an object never stored incomplete, an ADDED complete', () => {
    const docs = historyDocuments(
      [
        { type: 'MODIFIED', object: configMap('11', { a: '2' }) },
        { type: 'ADDED', object: configMap('12', { a: '1' }, 'u2') },
      ],
      new Map(),
      watch,
    )
    expect(docs.map((d) => d.complete)).toEqual([false, true])
  })

  it('never marks a reconcile version complete, but patches it from a recorded stored object', () => {
    const docs = historyDocuments(
      [{ type: 'MODIFIED', object: configMap('11', { a: '2' }) }],
      new Map([['u1', stored(configMap('10', { a: '1' }), true)]]),
      { ...watch, source: 'reconcile' },
    )
    expect(docs[0]).toMatchObject({ complete: false, source: 'reconcile' })
    expect(docs[0]!.patch).toEqual(
      expect.arrayContaining([{ op: 'replace', path: '/data/a', value: '2' }]),
    )
  })

  it('records a delete known by uid at the given version, with the last state and an empty patch', () => {
    const last = configMap('10', { a: '1' })
    const docs = historyDocuments(
      [{ type: 'DELETED', object: last, resourceVersion: '30' }],
      new Map([['u1', stored(last, true)]]),
      { ...watch, source: 'reconcile' },
    )
    expect(docs[0]).toMatchObject({ _id: 'c1/u1/30', resourceVersion: '30', type: 'DELETED' })
    expect(docs[0]!.patch).toEqual([])
    expect(docs[0]!.object).toEqual(toDocument(last, mapping).object)
  })

  it.each(['plain', 'hmac', 'redacted', 'metadata'] as const)(
    'keeps no Secret value, in the object nor in the patch, in %s mode',
    (mode) => {
      const secrets = { mode, hashKey: 'k'.repeat(32), annotationAllowlist: [] }
      const secretMapping = { ...mapping, kind: 'Secret', secrets }
      const secret = (rv: string, value: string) =>
        ({
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: {
            name: 's',
            namespace: 'shop',
            uid: 'u9',
            resourceVersion: rv,
            annotations: { note: value },
          },
          data: { password: Buffer.from(value).toString('base64') },
        }) as KubeObject
      const before = toDocument(secret('1', 'hunter2'), secretMapping)
      const docs = historyDocuments(
        [
          { type: 'MODIFIED', object: secret('2', 'correct-horse') },
          { type: 'MODIFIED', object: secret('3', 'battery-staple') },
        ],
        new Map([
          ['u9', { resourceVersion: '1', historyResourceVersion: '1', object: before.object }],
        ]),
        { ...watch, mapping: secretMapping },
      )
      const text = JSON.stringify(docs)
      for (const value of ['hunter2', 'correct-horse', 'battery-staple'])
        for (const form of [value, Buffer.from(value).toString('base64')])
          expect(text).not.toContain(form)
      expect(text).not.toContain('hmac-sha256')
    },
  )
})
