import { CoreV1Api } from '@kubernetes/client-node'
import type { Db } from 'mongodb'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { SecretMode } from '../../../lib/secret-policy.js'
import { createTestNamespace, kubeConfigFrom } from '../../stack/test-helpers.js'
import { harness, type Harness } from './harness.js'

/*
 * Each SECRET_MODE end to end on the real API server and MongoDB server
 * (docs/design.md#secret-values): a reconcile, then a watch replaying a
 * change, and what every collection of the database holds afterwards.
 */

const kc = kubeConfigFrom()
const core = kc.makeApiClient(CoreV1Api)

const value = 'p4ssw0rd-that-must-stay-in-the-cluster'
const changedValue = 'an0ther-p4ssw0rd-set-after-the-list'
const b64 = (text: string) => Buffer.from(text).toString('base64')
const hashKey = 'a-hash-key-for-the-mode-test'

const annotations = {
  // kubectl's copy of the manifest, and another tool's: both hold the value.
  'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify({
    stringData: { password: value },
  }),
  'gitops.example.com/rendered': `password: ${value}`,
  'kubernetes.io/service-account.name': 'builder',
  'meta.helm.sh/release-name': 'web',
}

async function everything(db: Db): Promise<string> {
  const parts: string[] = []
  for (const { name } of await db.listCollections().toArray()) {
    parts.push(JSON.stringify(await db.collection(name).find({}).toArray()))
  }
  return parts.join('\n')
}

describe('SECRET_MODE on the real API server and MongoDB server', () => {
  let namespace: string
  let h: Harness | undefined

  beforeAll(async () => {
    namespace = await createTestNamespace(kc, 'secret-modes')
  })
  afterEach(async () => {
    await h?.close()
    h = undefined
  })
  afterAll(async () => {
    await core.deleteNamespace({ name: namespace }).catch(() => undefined)
  })

  /** A Secret made for one mode, synced by a reconcile, changed, and replayed by a watch. */
  async function syncOne(mode: SecretMode) {
    const name = `s-${mode}`
    await core.createNamespacedSecret({
      namespace,
      body: { metadata: { name, annotations }, type: 'Opaque', stringData: { password: value } },
    })
    h = await harness({
      SYNC_RESOURCES: 'v1/secrets',
      SECRET_MODE: mode,
      ...(mode === 'hmac' ? { SECRET_HASH_KEY: hashKey } : {}),
    })
    const reconciled = await h.reconcile()
    expect(reconciled.resources[0]).toMatchObject({ status: 'complete' })
    const listed = await h.db.collection('secrets').findOne({ namespace, name })
    await core.patchNamespacedSecret({
      namespace,
      name,
      body: [{ op: 'replace', path: '/data/password', value: b64(changedValue) }],
    })
    const watched = await h.watch({ windowSeconds: 2 })
    expect(watched.resources[0]).toMatchObject({ status: 'complete' })
    const stored = await h.db.collection('secrets').findOne({ namespace, name })
    return { listed, stored, all: await everything(h.db) }
  }

  it('stores metadata only by default: the real apiVersion and kind, annotations outside the allowlist hidden', async () => {
    const { listed, stored, all } = await syncOne('metadata')
    for (const doc of [listed, stored]) {
      expect(doc).toMatchObject({ apiVersion: 'v1', kind: 'Secret', namespace })
      expect(Object.keys(doc!.object as object)).toEqual(['kind', 'apiVersion', 'metadata'])
      expect(doc!.object).toMatchObject({ kind: 'Secret', apiVersion: 'v1' })
      expect((doc!.object as { metadata: { annotations: unknown } }).metadata.annotations).toEqual({
        'kubectl%2Ekubernetes%2Eio/last-applied-configuration': '<redacted>',
        'gitops%2Eexample%2Ecom/rendered': '<redacted>',
        'kubernetes%2Eio/service-account%2Ename': 'builder',
        'meta%2Ehelm%2Esh/release-name': 'web',
      })
    }
    // The watch's change landed: a newer resourceVersion, still metadata only.
    expect(Number(stored!.resourceVersion)).toBeGreaterThan(Number(listed!.resourceVersion))
    for (const needle of [value, b64(value), changedValue, b64(changedValue)])
      expect(all).not.toContain(needle)
    // Not even the names of the values: the server never sent `data`.
    expect(JSON.stringify([listed, stored])).not.toContain('password')
  })

  it('keeps the keys and stores <redacted> for every value in redacted mode', async () => {
    const { listed, stored, all } = await syncOne('redacted')
    for (const doc of [listed, stored]) {
      expect(doc!.object).toMatchObject({ type: 'Opaque', data: { password: '<redacted>' } })
    }
    expect(Number(stored!.resourceVersion)).toBeGreaterThan(Number(listed!.resourceVersion))
    for (const needle of [value, b64(value), changedValue, b64(changedValue)])
      expect(all).not.toContain(needle)
  })

  it('stores an HMAC of each value in hmac mode, so the watched change shows', async () => {
    const { listed, stored, all } = await syncOne('hmac')
    const passwordOf = (doc: typeof listed) =>
      (doc!.object as { data: { password: string } }).data.password
    expect(passwordOf(listed)).toMatch(/^hmac-sha256:[0-9a-f]{64}$/)
    expect(passwordOf(stored)).toMatch(/^hmac-sha256:[0-9a-f]{64}$/)
    expect(passwordOf(stored)).not.toBe(passwordOf(listed))
    for (const needle of [value, b64(value), changedValue, b64(changedValue), hashKey])
      expect(all).not.toContain(needle)
  })

  it('stores the values as served in plain mode', async () => {
    const { listed, stored } = await syncOne('plain')
    expect(listed!.object).toMatchObject({ data: { password: b64(value) } })
    expect(stored!.object).toMatchObject({ data: { password: b64(changedValue) } })
    expect(
      (stored!.object as { metadata: { annotations: Record<string, string> } }).metadata
        .annotations['gitops%2Eexample%2Ecom/rendered'],
    ).toBe(`password: ${value}`)
  })
})
