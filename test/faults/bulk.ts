import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node'
import pLimit from 'p-limit'
import { configMap } from '../stack/seed-objects.js'

/*
 * Row 6's 10,000 ConfigMaps: seeded once into faults-bulk-0..9 (1,000 each)
 * and reused by later runs; only missing ones are created.
 */
export const bulkNamespaces = Array.from({ length: 10 }, (_, i) => `faults-bulk-${i}`)
export const perNamespace = 1000

export async function ensureBulkConfigMaps(
  kc: KubeConfig,
): Promise<{ created: number; ms: number }> {
  const started = Date.now()
  const core = kc.makeApiClient(CoreV1Api)
  const limit = pLimit(32)
  let created = 0
  for (const namespace of bulkNamespaces) {
    try {
      await core.createNamespace({ body: { metadata: { name: namespace } } })
    } catch (error) {
      if ((error as { code?: number }).code !== 409) throw error
    }
    const existing = new Set(
      (await core.listNamespacedConfigMap({ namespace })).items.map((c) => c.metadata!.name!),
    )
    const missing = Array.from({ length: perNamespace }, (_, i) => i).filter(
      (i) => !existing.has(`bulk-${i}`),
    )
    await Promise.all(
      missing.map((i) =>
        limit(async () => {
          try {
            await core.createNamespacedConfigMap({ namespace, body: configMap(`bulk-${i}`, i) })
            created++
          } catch (error) {
            if ((error as { code?: number }).code !== 409) throw error
          }
        }),
      ),
    )
  }
  return { created, ms: Date.now() - started }
}
