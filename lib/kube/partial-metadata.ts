import { SyncError, type ErrorContext } from '../errors.js'
import type { KubeObject, ResolvedResource, WatchEvent } from './types.js'

/*
 * Metadata-only lists and watches (SECRET_MODE=metadata, docs/design.md#secret-values):
 * asked for with the Accept header of the Kubernetes API concepts
 * ("Receiving resources as Tables" / metadata-only fetches), the API server
 * answers with PartialObjectMetadataList and PartialObjectMetadata objects,
 * so a Secret's `data` never leaves it. No fallback media type is offered: a
 * server that cannot do it answers 406 instead of sending the values.
 */

export const PARTIAL_METADATA_LIST_ACCEPT =
  'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1'
export const PARTIAL_METADATA_ACCEPT =
  'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1'

const PARTIAL_API_VERSION = 'meta.k8s.io/v1'

/**
 * A served PartialObjectMetadata as the object it describes: the
 * resource's apiVersion and kind (kube-apiserver 1.34 writes
 * `meta.k8s.io/v1 PartialObjectMetadata` on every item and event) and its
 * metadata, nothing else. Anything that is not a PartialObjectMetadata is
 * refused: it would be a whole object, values included.
 */
export function fromPartialMetadata(
  object: unknown,
  resolved: ResolvedResource,
  operation: string,
  context: ErrorContext = {},
): KubeObject {
  const served = object as { kind?: unknown; apiVersion?: unknown; metadata?: unknown } | null
  if (served?.kind !== 'PartialObjectMetadata' || served.apiVersion !== PARTIAL_API_VERSION) {
    throw new SyncError(
      `${operation}: asked for metadata only, the server sent ${describe(served)}; nothing of it is kept`,
      { context },
    )
  }
  return {
    kind: resolved.kind,
    apiVersion: resolved.apiVersion,
    metadata: (served.metadata ?? {}) as KubeObject['metadata'],
  }
}

/** Checks the list's own kind: a server that ignored the Accept header sent whole objects. */
export function assertPartialMetadataList(
  list: { readonly kind?: unknown; readonly apiVersion?: unknown },
  operation: string,
  context: ErrorContext = {},
): void {
  if (list.kind === 'PartialObjectMetadataList' && list.apiVersion === PARTIAL_API_VERSION) return
  throw new SyncError(
    `${operation}: asked for metadata only, the server sent ${describe(list)}; nothing of it is kept`,
    { context },
  )
}

function describe(value: { kind?: unknown; apiVersion?: unknown } | null): string {
  const kind = typeof value?.kind === 'string' ? value.kind : 'no kind'
  const apiVersion = typeof value?.apiVersion === 'string' ? ` (${value.apiVersion})` : ''
  return `${kind}${apiVersion}`
}

/** A metadata-only watch's events as events of the resource (bookmarks included). */
export async function* asResourceEvents(
  events: AsyncIterable<WatchEvent>,
  resolved: ResolvedResource,
  operation: string,
  context: ErrorContext = {},
): AsyncGenerator<WatchEvent, void, undefined> {
  for await (const event of events) {
    yield {
      type: event.type,
      object: fromPartialMetadata(event.object, resolved, operation, context),
    }
  }
}
