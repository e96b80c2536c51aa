import { apiVersionOf, type ResourceRef } from '../resource-ref.js'
import { ResourceNotFoundError } from './errors.js'
import { getJson, type HttpTransport } from './http.js'
import type { DiscoverFn } from './operations.js'
import { groupVersionPath } from './paths.js'
import type { ResolvedResource } from './types.js'

/** The parts of an APIResourceList discovery reads. */
interface APIResource {
  readonly name: string
  readonly kind: string
  readonly namespaced: boolean
  readonly verbs?: readonly string[]
}

interface APIResourceList {
  readonly resources?: readonly APIResource[]
}

/** What the sync needs of a resource: a full list, then a watch. */
const REQUIRED_VERBS = ['list', 'watch']

/**
 * Scope and kind from the group/version's resource list (`/api/v1`,
 * `/apis/<group>/<version>`), cached per group/version for the life of the
 * container; a failed fetch is evicted so the next call asks again, and a
 * miss in a cached list asks once more (a CRD installed since). A resource
 * the server does not serve is a ResourceNotFoundError (fatal, 404) naming it.
 */
export function makeDiscover(
  transport: HttpTransport,
  options: { readonly timeoutMs: number },
): DiscoverFn {
  const cache = new Map<string, Promise<APIResourceList>>()

  const resourceList = (
    ref: ResourceRef,
    fresh: boolean,
    signal?: AbortSignal,
  ): Promise<APIResourceList> => {
    const key = apiVersionOf(ref)
    let entry = fresh ? undefined : cache.get(key)
    if (!entry) {
      entry = getJson<APIResourceList>(
        transport,
        `discover ${key}`,
        { path: groupVersionPath(ref.group, ref.version), compressed: true },
        { timeoutMs: options.timeoutMs, signal },
      )
      cache.set(key, entry)
      entry.catch(() => cache.delete(key))
    }
    return entry
  }

  return async (ref, { signal } = {}): Promise<ResolvedResource> => {
    const cached = cache.has(apiVersionOf(ref))
    let found: APIResource | undefined
    try {
      // Subresources are listed as `pods/status`: an exact name match skips them.
      found = (await resourceList(ref, false, signal)).resources?.find((r) => r.name === ref.plural)
      if (!found && cached) {
        found = (await resourceList(ref, true, signal)).resources?.find(
          (r) => r.name === ref.plural,
        )
      }
    } catch (error) {
      if ((error as { code?: unknown }).code === 404) {
        throw new ResourceNotFoundError(
          `resource ${ref.id} is not served: the API server has no group/version ${apiVersionOf(ref)}`,
          { resource: ref.id },
        )
      }
      throw error
    }
    if (!found) {
      throw new ResourceNotFoundError(
        `resource ${ref.id} is not served: group/version ${apiVersionOf(ref)} has no resource "${ref.plural}"`,
        { resource: ref.id },
      )
    }
    const missing = REQUIRED_VERBS.filter((verb) => found.verbs && !found.verbs.includes(verb))
    if (missing.length > 0) {
      throw new ResourceNotFoundError(
        `resource ${ref.id} cannot be synced: it does not support ${missing.join(', ')}`,
        {
          resource: ref.id,
        },
      )
    }
    return Object.freeze({
      ref,
      kind: found.kind,
      namespaced: found.namespaced,
      apiVersion: apiVersionOf(ref),
    })
  }
}
