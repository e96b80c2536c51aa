/**
 * A resource as users name it in SYNC_RESOURCES: `v1/pods` (core group) or
 * `apps/v1/deployments`. Scope and kind are learnt later through discovery.
 */
export interface ResourceRef {
  readonly group: string
  readonly version: string
  readonly plural: string
  /** `v1/pods`, `apps/v1/deployments`: what users write and read in reports. */
  readonly id: string
}

const version = /^v\d+((alpha|beta)\d+)?$/
const plural = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/
const group = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/

export function parseResourceRef(text: string): ResourceRef | undefined {
  const parts = text.trim().split('/')
  if (parts.length === 2) {
    const [v, p] = parts as [string, string]
    if (!version.test(v) || !plural.test(p)) return undefined
    return Object.freeze({ group: '', version: v, plural: p, id: `${v}/${p}` })
  }
  if (parts.length === 3) {
    const [g, v, p] = parts as [string, string, string]
    if (!group.test(g) || !version.test(v) || !plural.test(p)) return undefined
    return Object.freeze({ group: g, version: v, plural: p, id: `${g}/${v}/${p}` })
  }
  return undefined
}

/** `apiVersion` as Kubernetes writes it: `v1` or `apps/v1`. */
export function apiVersionOf(ref: ResourceRef): string {
  return ref.group === '' ? ref.version : `${ref.group}/${ref.version}`
}

/** docs/design.md#collections: `<plural>` for the core group, `<plural>.<group>` otherwise. */
export function collectionNameOf(ref: ResourceRef): string {
  return ref.group === '' ? ref.plural : `${ref.plural}.${ref.group}`
}

/** `sync_state` key: `<cluster>/<group>/<version>/<plural>` (group empty for core). */
export function stateIdOf(cluster: string, ref: ResourceRef): string {
  return `${cluster}/${ref.group}/${ref.version}/${ref.plural}`
}
