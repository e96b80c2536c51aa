import { parseResourceRef } from '../../../../lib/resource-ref.js'
import type { KubeObject, ResolvedResource } from '../../../../lib/kube/types.js'

export function resolvedOf(id: string, kind: string, namespaced = true): ResolvedResource {
  const ref = parseResourceRef(id)
  if (!ref) throw new Error(`bad ref ${id}`)
  const apiVersion = ref.group === '' ? ref.version : `${ref.group}/${ref.version}`
  return { ref, kind, namespaced, apiVersion }
}

export const configMaps = resolvedOf('v1/configmaps', 'ConfigMap')

export function configMap(name: string, namespace: string, resourceVersion: string): KubeObject {
  return { metadata: { name, namespace, uid: `uid-${namespace}-${name}`, resourceVersion } }
}
