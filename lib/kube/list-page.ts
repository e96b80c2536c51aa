import type { ErrorContext } from '../errors.js'
import { ListParseError } from './errors.js'
import { getJson, type HttpTransport } from './http.js'
import type { ListPageFn, ListPageRequest, RawList } from './operations.js'
import {
  assertPartialMetadataList,
  fromPartialMetadata,
  PARTIAL_METADATA_LIST_ACCEPT,
} from './partial-metadata.js'
import { collectionPath } from './paths.js'
import { checkServedObject } from './served-object.js'
import type { KubeObject, RefusedObject, ResolvedResource } from './types.js'

/**
 * One list page over the transport; K8S_REQUEST_TIMEOUT_MS covers headers and
 * body, `request.maxBytes` caps the body. Every item is checked at the edge
 * (served-object.ts): the page's `items` are usable, the rest `refused`.
 */
export function makeListPage(
  transport: HttpTransport,
  options: { readonly timeoutMs: number },
): ListPageFn {
  return async (request: ListPageRequest): Promise<RawList> => {
    const { resolved, namespace, signal, maxBytes } = request
    const operation = `list ${resolved.ref.id}${namespace ? ` in ${namespace}` : ''}`
    const context = { resource: resolved.ref.id, namespace }
    const raw = await getJson<unknown>(
      transport,
      operation,
      {
        path: collectionPath(resolved, namespace),
        query: listQuery(request),
        compressed: true,
        ...(request.metadataOnly ? { accept: PARTIAL_METADATA_LIST_ACCEPT } : {}),
      },
      { timeoutMs: options.timeoutMs, signal, context, ...(maxBytes ? { maxBytes } : {}) },
    )
    if (request.metadataOnly) assertPartialMetadataList(raw ?? {}, operation, context)
    const { items, metadata } = listShape(raw, operation, context)
    const usable: KubeObject[] = []
    const refused: RefusedObject[] = []
    for (const item of items) {
      const served = request.metadataOnly
        ? fromPartialMetadata(item, resolved, operation, context)
        : item
      const checked = checkServedObject(served)
      if (checked.refused) refused.push(checked.refused)
      else usable.push(withTypeMeta(checked.object, resolved))
    }
    return { items: usable, metadata, ...(refused.length > 0 ? { refused } : {}) }
  }
}

/**
 * The list's own fields, checked: its resourceVersion becomes a checkpoint
 * and its continue token a query parameter, so both must be strings.
 */
function listShape(
  raw: unknown,
  operation: string,
  context: ErrorContext,
): { readonly items: readonly unknown[]; readonly metadata: RawList['metadata'] } {
  const { items, metadata } = (raw ?? {}) as { items?: unknown; metadata?: unknown }
  const problem = (what: string) =>
    new ListParseError(`${operation}: the answer is not a list (${what})`, { context })
  if (items !== undefined && items !== null && !Array.isArray(items))
    throw problem('items is not an array')
  const meta = (metadata ?? {}) as Record<string, unknown>
  const { resourceVersion, continue: token, remainingItemCount } = meta
  if (typeof resourceVersion !== 'string' || resourceVersion === '')
    throw problem('metadata.resourceVersion missing or not a non-empty string')
  if (token !== undefined && typeof token !== 'string')
    throw problem('metadata.continue is not a string')
  return {
    items: items ?? [],
    metadata: {
      resourceVersion,
      ...(token ? { continue: token } : {}),
      ...(typeof remainingItemCount === 'number' ? { remainingItemCount } : {}),
    },
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
