import type { ResolvedResource } from './types.js'

/**
 * REST path of a resource collection: `/api/v1/...` for the core group,
 * `/apis/<group>/<version>/...` otherwise; `namespaces/<ns>/` only for a
 * namespaced resource listed in one namespace (absent = all namespaces).
 */
export function collectionPath(resolved: ResolvedResource, namespace?: string): string {
  const { group, version, plural } = resolved.ref
  const base = groupVersionPath(group, version)
  if (namespace === undefined) return `${base}/${plural}`
  if (!resolved.namespaced) {
    throw new Error(
      `${resolved.ref.id} is cluster-scoped: it cannot be listed in namespace ${namespace}`,
    )
  }
  return `${base}/namespaces/${encodeURIComponent(namespace)}/${plural}`
}

/** Discovery document of a group/version (the APIResourceList). */
export function groupVersionPath(group: string, version: string): string {
  return group === '' ? `/api/${version}` : `/apis/${group}/${version}`
}
