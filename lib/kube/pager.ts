import { SyncError } from '../errors.js'
import { classify, notTransient } from '../classify.js'
import { logger } from '../log.js'
import { retryWithBackoff, type RetryPolicy } from '../retry.js'
import { inconsistentContinueOf } from './errors.js'
import { limitAfter } from './page-size.js'
import type { ListPageFn, RawList } from './operations.js'
import type { ListPage, ResolvedResource } from './types.js'

/*
 * A paginated list pass, after client-go tools/pager (pager.go), as an async
 * generator so only the current page is in memory. Protocol rules it relies on
 * (k8s.io/apiserver storage/etcd3, API concepts "Retrieving large results
 * sets in chunks"):
 *  - the first request has no `continue` and no resourceVersion: a consistent
 *    read from etcd; every later page sends only `continue` (the token pins
 *    the list's resourceVersion, and the server rejects both together);
 *  - a continue token expires when etcd compacts past its version: 410
 *    Expired. client-go falls back to a full list; so do we (a restart), and
 *    when restarts run out or there is no time, we follow the inconsistent
 *    token the 410 carries in `metadata.continue` and say so (consistent: false).
 */

export interface ListPagesOptions {
  readonly resolved: ResolvedResource
  /** `limit` of every request (K8S_LIST_PAGE_SIZE), until a page is over `maxPageBytes`. */
  readonly pageSize: number
  /** K8S_LIST_PAGE_MAX_BYTES: a page over it is asked again with half the limit (page-size.ts). Unset = no cap. */
  readonly maxPageBytes?: number
  /** K8S_LIST_PAGE_MIN_SIZE: the halving stops here. Default 1. */
  readonly minPageSize?: number
  /**
   * Only these namespaces, one list each (namespaced resources); absent = all
   * namespaces in one list. A restart restarts the whole pass from the first
   * namespace, so `restarted: true` always means "discard everything seen".
   */
  readonly namespaces?: readonly string[]
  readonly signal?: AbortSignal
  /** Retries of each page request (RETRY_*: `config.retry`). */
  readonly policy: RetryPolicy
  /** Full restarts after a 410 on a continue page before giving up consistency. Default 2. */
  readonly maxRestarts?: number
  /**
   * May the pass go on with the 410's inconsistent continue token instead of
   * restarting? `true` always, or ask per 410 (e.g. "is there time for a
   * restart?"). Once restarts are used up the token is followed regardless.
   */
  readonly allowInconsistentContinue?: boolean | ((state: ExpiredContinueState) => boolean)
  /** Jitter source for the retries (tests). */
  readonly random?: () => number
}

export interface ExpiredContinueState {
  readonly resource: string
  readonly namespace: string | undefined
  /** The page whose request got the 410. */
  readonly page: number
  readonly restarts: number
}

/** What a completed pass looked like (the generator's return value). */
export interface ListPassSummary {
  readonly pages: number
  readonly items: number
  readonly restarts: number
  /** False when an inconsistent continue token was followed: do not delete on this pass. */
  readonly consistent: boolean
  /** List resourceVersion per namespace listed ('' = all namespaces). */
  readonly resourceVersions: Readonly<Record<string, string>>
}

const DEFAULT_MAX_RESTARTS = 2
/** A server that expires even the tokens it just offered is compacting in a loop: stop. */
const MAX_INCONSISTENT_FOLLOWS = 3

/** Restarts and inconsistent continues so far, and the limit, over every pass of one listPages(). */
interface PassCounts {
  restarts: number
  follows: number
  /** Halved from pageSize after a page over maxPageBytes; kept for the rest of the pass. */
  limit: number
}

/** Where one page request stands in its pass. */
interface PageRequest {
  readonly namespace: string | undefined
  readonly page: number
  readonly continueToken: string | undefined
}

type PageOutcome =
  | { readonly action: 'page'; readonly raw: RawList }
  | { readonly action: 'restart' }
  | { readonly action: 'follow'; readonly token: string }

export async function* listPages(
  listFn: ListPageFn,
  options: ListPagesOptions,
): AsyncGenerator<ListPage, ListPassSummary, undefined> {
  const counts: PassCounts = { restarts: 0, follows: 0, limit: options.pageSize }
  for (;;) {
    const summary = yield* listPass(listFn, options, counts)
    if (summary !== 'restart') return summary
    counts.restarts++
  }
}

/** One pass over every scope, page by page; 'restart' when a 410 calls for a fresh pass. */
async function* listPass(
  listFn: ListPageFn,
  options: ListPagesOptions,
  counts: PassCounts,
): AsyncGenerator<ListPage, ListPassSummary | 'restart', undefined> {
  const { resolved } = options
  const scopes = resolved.namespaced && options.namespaces ? options.namespaces : [undefined]
  let page = 0
  let items = 0
  let consistent = true
  let restarted = counts.restarts > 0
  const resourceVersions: Record<string, string> = {}

  for (const namespace of scopes) {
    let continueToken: string | undefined
    let listResourceVersion: string | undefined
    do {
      page++
      const outcome = await fetchPage(listFn, options, { namespace, page, continueToken }, counts)
      if (outcome.action === 'restart') return 'restart'
      if (outcome.action === 'follow') {
        continueToken = outcome.token
        consistent = false
        counts.follows++
        page--
        continue
      }
      const { raw } = outcome
      // Pages after an inconsistent continue come from a newer version: report what was served.
      listResourceVersion = consistent
        ? (listResourceVersion ?? raw.metadata.resourceVersion)
        : raw.metadata.resourceVersion
      resourceVersions[namespace ?? ''] = listResourceVersion
      items += raw.items.length
      continueToken = raw.metadata.continue || undefined
      const current: ListPage = {
        items: raw.items,
        page,
        listResourceVersion,
        consistent,
        restarted,
        namespace,
        ...(raw.refused ? { refused: raw.refused } : {}),
      }
      restarted = false
      yield current
    } while (continueToken !== undefined)
  }
  return { pages: page, items, restarts: counts.restarts, consistent, resourceVersions }
}

/**
 * One page, retried on transient errors and asked again with a smaller limit
 * while it is over its byte cap; a 410 on a continue page says restart or follow.
 */
async function fetchPage(
  listFn: ListPageFn,
  options: ListPagesOptions,
  request: PageRequest,
  counts: PassCounts,
): Promise<PageOutcome> {
  for (;;) {
    const limit = counts.limit
    try {
      return await fetchPageOnce(listFn, options, request, counts)
    } catch (error) {
      const { namespace, page } = request
      const floor = options.minPageSize ?? 1
      const next = limitAfter(error, {
        resource: options.resolved.ref.id,
        namespace,
        page,
        limit,
        floor,
      })
      if (next === undefined) throw error
      counts.limit = next
    }
  }
}

async function fetchPageOnce(
  listFn: ListPageFn,
  options: ListPagesOptions,
  request: PageRequest,
  counts: PassCounts,
): Promise<PageOutcome> {
  const { resolved, signal, maxPageBytes } = options
  const { namespace, page, continueToken } = request
  const resource = resolved.ref.id
  const { limit } = counts
  const maxBytes = maxPageBytes ? { maxBytes: maxPageBytes } : {}
  try {
    const raw = await retryWithBackoff(
      () => listFn({ resolved, namespace, limit, continueToken, signal, ...maxBytes }),
      `list ${resource} page ${page}`,
      {
        signal,
        policy: options.policy,
        // Not a 410: the pass restarts or follows the inconsistent token (below).
        isFatal: notTransient,
        random: options.random,
        context: { resource, namespace, page },
      },
    )
    return { action: 'page', raw }
  } catch (error) {
    if (continueToken === undefined || classify(error).kind !== 'expired') throw error
    const state = { resource, namespace, page, restarts: counts.restarts, follows: counts.follows }
    return afterExpiredContinue(
      error,
      state,
      options.maxRestarts ?? DEFAULT_MAX_RESTARTS,
      options.allowInconsistentContinue,
    )
  }
}

/**
 * What to do about a 410 on a continue page: restart the pass while restarts
 * remain and the caller does not prefer the inconsistent token, else follow
 * that token; fail when neither is possible.
 */
function afterExpiredContinue(
  error: unknown,
  state: ExpiredContinueState & { readonly follows: number },
  maxRestarts: number,
  rule: ListPagesOptions['allowInconsistentContinue'],
): { readonly action: 'restart' } | { readonly action: 'follow'; readonly token: string } {
  const { resource, follows, ...context } = state
  const token = follows < MAX_INCONSISTENT_FOLLOWS ? inconsistentContinueOf(error) : undefined
  if (token && (state.restarts >= maxRestarts || allows(rule, state))) {
    logger.warn(`list ${resource}: continue token expired; following the inconsistent token`, {
      event: 'list.inconsistent-continue',
      resource,
      ...context,
    })
    return { action: 'follow', token }
  }
  if (state.restarts >= maxRestarts) {
    const detail = `${state.restarts} restarts, ${follows} inconsistent continues`
    throw new SyncError(`list ${resource}: continue token expired after ${detail}`, {
      context: { resource, namespace: state.namespace, page: state.page },
      cause: error,
    })
  }
  logger.warn(
    `list ${resource}: continue token expired on page ${state.page}; restarting the list`,
    {
      event: 'list.restart',
      resource,
      ...context,
      maxRestarts,
    },
  )
  return { action: 'restart' }
}

function allows(
  rule: ListPagesOptions['allowInconsistentContinue'],
  state: ExpiredContinueState,
): boolean {
  const { resource, namespace, page, restarts } = state
  return typeof rule === 'function' ? rule({ resource, namespace, page, restarts }) : rule === true
}
