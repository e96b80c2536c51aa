import { getJson, type HttpTransport } from './http.js'
import type { ListPageFn, ListPageRequest, RawList } from './operations.js'
import { collectionPath } from './paths.js'
import type { KubeObject, ResolvedResource } from './types.js'

/** One list page over the transport; K8S_REQUEST_TIMEOUT_MS covers headers and body. */
export function makeListPage(
  transport: HttpTransport,
  options: { readonly timeoutMs: number },
): ListPageFn {
  return async (request: ListPageRequest): Promise<RawList> => {
    const { resolved, namespace, signal } = request
    const operation = `list ${resolved.ref.id}${namespace ? ` in ${namespace}` : ''}`
    const raw = await getJson<RawList>(
      transport,
      operation,
      { path: collectionPath(resolved, namespace), query: listQuery(request), compressed: true },
      { timeoutMs: options.timeoutMs, signal, context: { resource: resolved.ref.id, namespace } },
    )
    return {
      items: (raw.items ?? []).map((item) => withTypeMeta(item, resolved)),
      metadata: raw.metadata,
    }
  }
}

/**
 * The query of a list request. Rules of the API server (apimachinery
 * ListOptions validation) are checked here too, so a bug fails loudly in
 * every environment: no `resourceVersion` with `continue`, and
 * `resourceVersionMatch` only with a `resourceVersion`.
 */
function listQuery(request: Omit<ListPageRequest, 'resolved'>): Record<string, string | undefined> {
  const { continueToken, resourceVersion, resourceVersionMatch } = request
  if (continueToken && resourceVersion) {
    throw new Error(
      'list: resourceVersion must not be sent with continue (the token pins the version)',
    )
  }
  if (resourceVersionMatch && !resourceVersion) {
    throw new Error('list: resourceVersionMatch needs a resourceVersion')
  }
  return {
    limit: String(request.limit),
    continue: continueToken || undefined,
    resourceVersion: resourceVersion || undefined,
    resourceVersionMatch,
  }
}

/**
 * Items of a list response carry no apiVersion/kind for built-in types (the
 * list has them once); fill them in so a listed object looks like a watched
 * or fetched one.
 */
function withTypeMeta(item: KubeObject, resolved: ResolvedResource): KubeObject {
  if (item.apiVersion && item.kind) return item
  // In the order the server writes them on a single GET or a watch event, so
  // the stored object serialises exactly like the object as served.
  return { kind: resolved.kind, apiVersion: resolved.apiVersion, ...item }
}
