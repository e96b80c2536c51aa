import { AppsV1Api, CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node'
import pLimit from 'p-limit'

import { demoCrd } from './cluster-setup.js'
import { createProgress } from './progress.js'
import { configMap, deployment, secret, widget } from './seed-objects.js'

export interface SeedOptions {
  objects: number
  namespacePrefix?: string
  /** Objects per namespace; default 100. */
  perNamespace?: number
  concurrency?: number
  /** A KubeConfig, or a kubeconfig path; default $KUBECONFIG. */
  kubeconfig?: KubeConfig | string
  progress?: boolean
}

export interface SeedResult {
  namespaces: string[]
  counts: { configmaps: number; secrets: number; deployments: number; widgets: number }
  ms: number
}

function loadKubeConfig(source: KubeConfig | string | undefined): KubeConfig {
  if (source instanceof KubeConfig) return source
  const kc = new KubeConfig()
  const path = source ?? process.env.KUBECONFIG
  if (!path) throw new Error('seed: no kubeconfig (set KUBECONFIG or load .stack/env)')
  kc.loadFromFile(path)
  return kc
}

async function ignoreConflict(create: () => Promise<unknown>) {
  try {
    await create()
  } catch (error) {
    if ((error as { code?: number }).code !== 409) throw error
  }
}

/** Creates namespaces and a realistic mix of objects; re-running with the same prefix is a no-op. */
export async function seed(opts: SeedOptions): Promise<SeedResult> {
  const start = Date.now()
  const kc = loadKubeConfig(opts.kubeconfig)
  const core = kc.makeApiClient(CoreV1Api)
  const apps = kc.makeApiClient(AppsV1Api)
  const custom = kc.makeApiClient(CustomObjectsApi)
  const prefix = opts.namespacePrefix ?? 'seed'
  const perNamespace = opts.perNamespace ?? 100
  const limit = pLimit(opts.concurrency ?? 16)
  const namespaces = Array.from(
    { length: Math.max(1, Math.ceil(opts.objects / perNamespace)) },
    (_, n) => `${prefix}-${n}`,
  )
  await Promise.all(
    namespaces.map((name) =>
      limit(() => ignoreConflict(() => core.createNamespace({ body: { metadata: { name } } }))),
    ),
  )
  const counts = { configmaps: 0, secrets: 0, deployments: 0, widgets: 0 }
  const bar = opts.progress ? createProgress(opts.objects, 'seed') : undefined
  const createOne = async (i: number) => {
    const namespace = namespaces[Math.floor(i / perNamespace)] ?? prefix
    const slot = i % 10
    if (slot < 4) {
      counts.configmaps++
      const body = configMap(`config-${i}`, i)
      await ignoreConflict(() => core.createNamespacedConfigMap({ namespace, body }))
    } else if (slot < 6) {
      counts.secrets++
      const body = secret(`secret-${i}`, i)
      await ignoreConflict(() => core.createNamespacedSecret({ namespace, body }))
    } else if (slot < 8) {
      counts.deployments++
      const body = deployment(`deploy-${i}`, i)
      await ignoreConflict(() => apps.createNamespacedDeployment({ namespace, body }))
    } else {
      counts.widgets++
      const body = widget(`widget-${i}`, namespace, i)
      const { group, version, plural } = demoCrd
      await ignoreConflict(() =>
        custom.createNamespacedCustomObject({ group, version, namespace, plural, body }),
      )
    }
    bar?.tick()
  }
  await Promise.all(Array.from({ length: opts.objects }, (_, i) => limit(() => createOne(i))))
  bar?.done()
  return { namespaces, counts, ms: Date.now() - start }
}
