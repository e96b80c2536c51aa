import { apiVersionOf, type ResourceRef } from '../resource-ref.js'
import { KubeApiError, ResourceNotFoundError } from './errors.js'
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
  const lists = cachedResourceLists(transport, options.timeoutMs)
  return async (ref, { signal } = {}): Promise<ResolvedResource> => {
    const found = await findResource(lists, ref, signal)
    const missing = REQUIRED_VERBS.filter((verb) => found.verbs && !found.verbs.includes(verb))
    if (missing.length > 0) {
      throw new ResourceNotFoundError(
        `resource ${ref.id} cannot be synced: it does not support ${missing.join(', ')}`,
        { resource: ref.id },
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

/** Resource lists per group/version, cached for the life of the container. */
interface ResourceLists {
  /** An earlier call fetched this group/version's list (or is fetching it). */
  has(ref: ResourceRef): boolean
  /** The list, from the cache unless `fresh`. */
  get(ref: ResourceRef, fresh: boolean, signal?: AbortSignal): Promise<APIResourceList>
}

function cachedResourceLists(transport: HttpTransport, timeoutMs: number): ResourceLists {
  const cache = new Map<string, Promise<APIResourceList>>()
  return {
    has: (ref) => cache.has(apiVersionOf(ref)),
    get: (ref, fresh, signal) => {
      const key = apiVersionOf(ref)
      let entry = fresh ? undefined : cache.get(key)
      if (!entry) {
        entry = getJson<APIResourceList>(
          transport,
          `discover ${key}`,
          { path: groupVersionPath(ref.group, ref.version), compressed: true },
          { timeoutMs, signal },
        )
        cache.set(key, entry)
        entry.catch(() => cache.delete(key))
      }
      return entry
    },
  }
}

/** The resource's entry in its group/version's list; ResourceNotFoundError when it has none. */
async function findResource(
  lists: ResourceLists,
  ref: ResourceRef,
  signal: AbortSignal | undefined,
): Promise<APIResource> {
  // Subresources are listed as `pods/status`: an exact name match skips them.
  const find = (list: APIResourceList) => list.resources?.find((r) => r.name === ref.plural)
  const cached = lists.has(ref)
  let found: APIResource | undefined
  try {
    found = find(await lists.get(ref, false, signal))
    if (!found && cached) found = find(await lists.get(ref, true, signal))
  } catch (error) {
    if (error instanceof KubeApiError && error.code === 404) {
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
  return found
}
