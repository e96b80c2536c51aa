import type { Db } from 'mongodb'
import { afterEach, describe, expect, it } from 'vitest'
import type { KubeObject } from '../../../lib/kube/types.js'
import type { SecretValuePolicy } from '../../../lib/secret-policy.js'
import { writeChunked } from '../../../lib/store/writes/bulk-writer.js'
import { fromDocument, type MappingContext } from '../../../lib/store/documents/mapper.js'
import { ensureIndexes } from '../../../lib/store/documents/indexes.js'
import type { InventoryDocument } from '../../../lib/store/documents/mapper.js'
import { loadVersionIndex } from '../../../lib/store/bookkeeping/version-index.js'
import {
  captureOutput,
  dropAndDisconnect,
  freshDb,
  hostileObject,
  withoutManagedFields,
} from './helpers.js'

let db: Db | undefined
afterEach(async () => {
  await dropAndDisconnect(db)
  db = undefined
})

const configMaps: MappingContext = {
  cluster: 'it',
  apiVersion: 'v1',
  kind: 'ConfigMap',
  secrets: { mode: 'redacted' as const, hashKey: undefined, annotationAllowlist: [] },
}

describe('document round trip through the real store', () => {
  it('stores 1,000 objects with hostile keys and gives each back exactly', async () => {
    const fresh = await freshDb()
    db = fresh.db
    const collection = db.collection<InventoryDocument>('configmaps')
    await ensureIndexes(collection)
    await ensureIndexes(collection) // idempotent
    const objects = Array.from({ length: 1000 }, (_, i) => hostileObject(i))

    const result = await writeChunked(
      collection,
      objects.map((object) => ({ type: 'insert' as const, object })),
      { resource: 'v1/configmaps', mapping: configMaps, config: fresh.config },
    )

    expect(result).toMatchObject({ inserted: 1000, updated: 0, skippedByGuard: 0, chunks: 10 })
    const stored = await collection.find({}).sort({ _id: 1 }).toArray()
    expect(stored).toHaveLength(1000)
    for (const [i, doc] of stored.entries()) {
      const served = withoutManagedFields(objects[i]!)
      expect(doc._id).toBe(`it/${served.metadata.uid}`)
      expect(JSON.stringify(fromDocument(doc))).toBe(JSON.stringify(served))
    }
    // Labels stay queryable without any encoding (by dotted path: FerretDB 1.x supports
    // neither $elemMatch on documents nor whole-element equality).
    const labelled = await collection
      .find(
        { 'labels.key': 'app.kubernetes.io/name', 'labels.value': 'app-1' },
        { projection: { _id: 1 } },
      )
      .toArray()
    expect(labelled).toHaveLength(333)
    const index = await loadVersionIndex(collection, { cluster: 'it', namespaces: ['ns-0'] })
    expect(index.versions.size).toBe(143)
    expect(index.versions.get('uid-000007')).toBe('1007')
    expect(index.namespaces.get('uid-000007')).toBe('ns-0')
  })

  it('keeps Secret plaintext and its base64 out of every stored byte and every log line', async () => {
    const fresh = await freshDb()
    db = fresh.db
    const collection = db.collection<InventoryDocument>('secrets')
    const plaintext = 'correct-horse-battery-staple-42'
    const base64 = Buffer.from(plaintext).toString('base64')
    const secret = (i: number): KubeObject => ({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: `s-${i}`,
        namespace: 'default',
        uid: `secret-${i}`,
        resourceVersion: String(10 + i),
        annotations: {
          'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify({
            data: { password: base64 },
          }),
        },
      },
      type: 'Opaque',
      data: { password: base64, '.dockerconfigjson': base64 },
      stringData: { token: plaintext },
    })
    const output = captureOutput()
    try {
      const policies: SecretValuePolicy[] = [
        { mode: 'redacted', hashKey: undefined, annotationAllowlist: [] },
        { mode: 'hmac', hashKey: 'hash-key-for-tests', annotationAllowlist: [] },
        { mode: 'metadata', hashKey: undefined, annotationAllowlist: [] },
      ]
      for (const [p, secrets] of policies.entries()) {
        await writeChunked(
          collection,
          [0, 1, 2].map((i) => ({
            type: 'upsert' as const,
            object: secret(i + 3 * p),
          })),
          {
            resource: 'v1/secrets',
            mapping: { ...configMaps, kind: 'Secret', secrets },
            config: fresh.config,
          },
        )
      }
    } finally {
      output.restore()
    }

    const stored = await collection.find({}).toArray()
    expect(stored).toHaveLength(9)
    const everything = JSON.stringify(stored)
    expect(everything).toContain('<redacted>')
    expect(everything).toMatch(/hmac-sha256:[0-9a-f]{64}/)
    for (const needle of [plaintext, base64]) {
      expect(everything).not.toContain(needle)
      expect(output.text()).not.toContain(needle)
    }
    expect(output.events().some((e) => e.event === 'chunk.processed')).toBe(true)
  })
})
