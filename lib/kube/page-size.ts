import { SyncError } from '../errors.js'
import { logger } from '../log.js'
import { responseTooLargeOf } from './errors.js'

/*
 * The `limit` of a list pass when pages are too large in bytes
 * (K8S_LIST_PAGE_MAX_BYTES): a page over the cap is asked again with half the
 * limit, down to K8S_LIST_PAGE_MIN_SIZE, and the smaller limit holds for the
 * rest of the pass. A continue token does not depend on the limit, so the
 * same page is asked again where it stood (docs/design.md#invariant-6-bounded).
 */

/** Half the limit, not below the floor; undefined when it is at the floor already. */
export function halvedLimit(limit: number, floor: number): number | undefined {
  if (limit <= floor) return undefined
  return Math.max(floor, Math.floor(limit / 2))
}

export interface PageTooLarge {
  readonly resource: string
  readonly namespace: string | undefined
  readonly page: number
  readonly limit: number
  /** K8S_LIST_PAGE_MIN_SIZE. */
  readonly floor: number
}

/**
 * After a failed page request: the smaller limit to ask with when the page
 * was over its byte cap (logged), undefined when the failure is anything
 * else. Throws when the limit is at its floor already.
 */
export function limitAfter(error: unknown, at: PageTooLarge): number | undefined {
  const tooLarge = responseTooLargeOf(error)
  if (!tooLarge) return undefined
  const { resource, namespace, page, limit, floor } = at
  const next = halvedLimit(limit, floor)
  if (next === undefined) {
    throw new SyncError(
      `list ${resource} page ${page}: over K8S_LIST_PAGE_MAX_BYTES (${tooLarge.maxBytes} bytes) even with limit ${limit} (K8S_LIST_PAGE_MIN_SIZE ${floor})`,
      { context: { resource, namespace, page }, cause: error },
    )
  }
  logger.warn(
    `list ${resource} page ${page}: over ${tooLarge.maxBytes} bytes with limit ${limit}; asking again with limit ${next}`,
    {
      event: 'list.page-too-large',
      resource,
      namespace,
      page,
      maxBytes: tooLarge.maxBytes,
      limit,
      nextLimit: next,
    },
  )
  return next
}
