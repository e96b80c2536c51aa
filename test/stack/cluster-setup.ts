import {
  ApiextensionsV1Api,
  KubeConfig,
  RbacAuthorizationV1Api,
  type V1CustomResourceDefinition,
} from '@kubernetes/client-node'

import { restrictedUser } from './kube-material.js'
import { waitFor } from './wait.js'

export const demoCrd = { group: 'example.com', version: 'v1', kind: 'Widget', plural: 'widgets' }
const readerRole = 'kms-configmap-reader'

const widgetCrd: V1CustomResourceDefinition = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: `${demoCrd.plural}.${demoCrd.group}` },
  spec: {
    group: demoCrd.group,
    scope: 'Namespaced',
    names: {
      kind: demoCrd.kind,
      plural: demoCrd.plural,
      singular: 'widget',
      listKind: 'WidgetList',
    },
    versions: [
      {
        name: demoCrd.version,
        served: true,
        storage: true,
        schema: { openAPIV3Schema: { type: 'object', x_kubernetes_preserve_unknown_fields: true } },
      },
    ],
  },
}

const alreadyExists = (error: unknown) => (error as { code?: number }).code === 409

async function createIfMissing(create: () => Promise<unknown>) {
  try {
    await create()
  } catch (error) {
    if (!alreadyExists(error)) throw error
  }
}

// RBAC for the restricted token user (list/watch ConfigMaps only) and the demo CRD, Established.
export async function applyClusterSetup(kc: KubeConfig, opts: { rbac: boolean }): Promise<void> {
  if (opts.rbac) await applyRestrictedRbac(kc)
  await installDemoCrd(kc)
}

async function applyRestrictedRbac(kc: KubeConfig) {
  const rbac = kc.makeApiClient(RbacAuthorizationV1Api)
  await createIfMissing(() =>
    rbac.createClusterRole({
      body: {
        metadata: { name: readerRole },
        rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'watch'] }],
      },
    }),
  )
  await createIfMissing(() =>
    rbac.createClusterRoleBinding({
      body: {
        metadata: { name: readerRole },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: readerRole },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: restrictedUser }],
      },
    }),
  )
}

async function installDemoCrd(kc: KubeConfig) {
  const ext = kc.makeApiClient(ApiextensionsV1Api)
  await createIfMissing(() => ext.createCustomResourceDefinition({ body: widgetCrd }))
  const name = widgetCrd.metadata?.name ?? ''
  await waitFor(`CRD ${name} Established`, async () => {
    const crd = await ext.readCustomResourceDefinition({ name })
    return (crd.status?.conditions ?? []).some(
      (c) => c.type === 'Established' && c.status === 'True',
    )
  })
}
