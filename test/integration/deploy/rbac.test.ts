import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  AuthorizationV1Api,
  CoreV1Api,
  KubernetesObjectApi,
  loadAllYaml,
  type KubernetesObject,
} from '@kubernetes/client-node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { kubeconfigText } from '../../stack/kubeconfig.js'
import { kubeConfigFrom, kubeIsExternal } from '../../stack/test-helpers.js'
import {
  converged,
  divergence,
  harness,
  namespaceWithConfigMaps,
  type Harness,
} from '../sync/harness.js'

/*
 * deploy/rbac.yaml as a user applies it, on the local kube-apiserver, with a
 * short-lived token of its ServiceAccount (what `kubectl create token
 * --duration` asks for): the reconcile runs with it, and it can do nothing
 * but list and watch (docs/security.md#what-the-functions-can-read).
 */

const manifest = new URL('../../../deploy/rbac.yaml', import.meta.url)
const account = { name: 'kube-mongo-sync', namespace: 'kube-mongo-sync' }

describe.skipIf(kubeIsExternal())('deploy/rbac.yaml', () => {
  const admin = kubeConfigFrom()
  let token: string
  let expiresAt: Date
  let kubeconfig: string
  let h: Harness | undefined

  beforeAll(async () => {
    const objects = loadAllYaml(readFileSync(manifest, 'utf8')) as KubernetesObject[]
    const api = KubernetesObjectApi.makeApiClient(admin)
    for (const object of objects) {
      // Applied as `kubectl apply` would: created, or replaced by this version.
      try {
        await api.create(object)
      } catch (error) {
        if ((error as { code?: number }).code !== 409) throw error
        await api.patch(
          object,
          undefined,
          undefined,
          'kms-test',
          true,
          'application/apply-patch+yaml',
        )
      }
    }
    const request = await admin.makeApiClient(CoreV1Api).createNamespacedServiceAccountToken({
      ...account,
      body: { spec: { audiences: [], expirationSeconds: 600 } },
    })
    token = request.status!.token
    expiresAt = new Date(request.status!.expirationTimestamp)
    const cluster = admin.getCurrentCluster()!
    kubeconfig = join(mkdtempSync(join(tmpdir(), 'kms-rbac-')), 'kubeconfig')
    writeFileSync(
      kubeconfig,
      kubeconfigText({
        server: cluster.server,
        token,
        ca: Buffer.from(cluster.caData!, 'base64').toString(),
        user: 'kube-mongo-sync',
      }),
    )
  })
  afterAll(async () => {
    await h?.close()
  })

  it('grants a token that expires, not a Secret that never does', async () => {
    expect(expiresAt.getTime() - Date.now()).toBeLessThanOrEqual(600_000)
    const secrets = await admin
      .makeApiClient(CoreV1Api)
      .listNamespacedSecret({ namespace: account.namespace })
    expect(secrets.items.filter((s) => s.type === 'kubernetes.io/service-account-token')).toEqual(
      [],
    )
  })

  it('lets the reconcile list and store the configured resources with that token', async () => {
    const ns = await namespaceWithConfigMaps(admin, 12, 'rbac')
    h = await harness({ SYNC_RESOURCES: 'v1/configmaps' }, kubeconfig)

    const out = await h.reconcile({ namespaces: [ns] })

    expect(out.resources[0]).toMatchObject({ status: 'complete', inserted: 12 })
    expect(await divergence(admin, h.db, 'v1/configmaps', 'ConfigMap', [ns])).toMatchObject(
      converged,
    )
  }, 60_000)

  it.each([
    ['list', 'configmaps', '', true],
    ['watch', 'secrets', '', true],
    ['list', 'deployments', 'apps', true],
    ['get', 'configmaps', '', false],
    ['get', 'secrets', '', false],
    ['create', 'configmaps', '', false],
    ['delete', 'pods', '', false],
    ['create', 'pods/exec', '', false],
    ['list', 'serviceaccounts', '', false],
    ['update', 'clusterroles', 'rbac.authorization.k8s.io', false],
  ])('answers %s %s (group "%s") with allowed=%s', async (verb, resource, group, allowed) => {
    const [plural, subresource] = resource.split('/')
    const review = await admin.makeApiClient(AuthorizationV1Api).createSubjectAccessReview({
      body: {
        spec: {
          user: `system:serviceaccount:${account.namespace}:${account.name}`,
          groups: ['system:serviceaccounts', `system:serviceaccounts:${account.namespace}`],
          resourceAttributes: { verb, resource: plural, subresource, group },
        },
      },
    })
    expect(review.status?.allowed ?? false).toBe(allowed)
  })
})
