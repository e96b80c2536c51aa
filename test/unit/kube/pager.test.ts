import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { KubeApiError, KubeResponseTooLargeError } from '../../../lib/kube/errors.js'
import type { ListPageFn, ListPageRequest, RawList } from '../../../lib/kube/operations.js'
import { listPages, type ListPagesOptions, type ListPassSummary } from '../../../lib/kube/pager.js'
import type { ListPage } from '../../../lib/kube/types.js'
import type { RetryPolicy } from '../../../lib/retry.js'
import { FakeListServer, status } from './fakes/fake-list-server.js'
import { configMap, configMaps } from './fakes/resources.js'

const policy: RetryPolicy = {
  maxAttempts: 3,
  initialDelayMs: 1000,
  maxDelayMs: 30_000,
  backoffMultiplier: 2,
}

function resetError(): Error {
  return Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })
}

/** Runs a whole pass over the server's objects, byte-capped as list-page.ts caps them. */
function run(server: FakeListServer, options: Partial<ListPagesOptions> = {}) {
  return runWith(byteCapped(server.list), options)
}

/** Runs a whole pass, driving the fake clock through any backoff. */
async function runWith(list: ListPageFn, options: Partial<ListPagesOptions> = {}) {
  const pages: ListPage[] = []
  const pass = (async (): Promise<ListPassSummary> => {
    const generator = listPages(list, {
      resolved: configMaps,
      pageSize: 50,
      policy,
      ...options,
    })
    for (;;) {
      const step = await generator.next()
      if (step.done) return step.value
      pages.push(step.value)
    }
  })()
  const settled = pass.then(
    (summary) => ({ summary, error: undefined }),
    (error: unknown) => ({ summary: undefined, error }),
  )
  await vi.runAllTimersAsync()
  return { pages, ...(await settled) }
}

/** Each fake object counts as this many bytes against maxPageBytes. */
const OBJECT_BYTES = 1000

/**
 * A ListPageFn keeping list-page.ts's byte contract: a page over the
 * request's maxBytes is an error, never an answer. `bytes` of an answer
 * defaults to its items times OBJECT_BYTES.
 */
function byteCapped(
  list: (request: ListPageRequest) => Promise<RawList & { bytes?: number }>,
  onAnswer: () => void = () => undefined,
): ListPageFn {
  return async (request) => {
    const { bytes, ...raw } = await list(request)
    onAnswer()
    const size = bytes ?? raw.items.length * OBJECT_BYTES
    if (request.maxBytes !== undefined && size > request.maxBytes)
      throw new KubeResponseTooLargeError('list v1/configmaps', request.maxBytes)
    return raw
  }
}

/** Uids of the pages since the last restart: what a consumer's seen-set holds. */
function seenAfterLastRestart(pages: ListPage[]): string[] {
  const last = pages.findLastIndex((p) => p.restarted)
  return pages.slice(Math.max(0, last)).flatMap((p) => p.items.map((o) => o.metadata.uid))
}

describe('listPages', () => {
  beforeEach(() => {
    vi.useFakeTimers()
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('lists every object once, page by page, at one resourceVersion', async () => {
    const server = new FakeListServer({ a: 120, b: 60 })

    const { pages, summary } = await run(server)

    expect(pages.map((p) => p.items.length)).toEqual([50, 50, 50, 30])
    expect(pages.map((p) => p.page)).toEqual([1, 2, 3, 4])
    expect(new Set(pages.map((p) => p.listResourceVersion))).toEqual(
      new Set([server.resourceVersion]),
    )
    expect(pages.every((p) => p.consistent && !p.restarted)).toBe(true)
    const uids = pages.flatMap((p) => p.items.map((o) => o.metadata.uid))
    expect(uids.sort()).toEqual(server.liveUids().sort())
    expect(summary).toEqual({
      pages: 4,
      items: 180,
      restarts: 0,
      consistent: true,
      resourceVersions: { '': '280' },
    })
  })

  it('sends no resourceVersion on the first page and only continue on later pages', async () => {
    const server = new FakeListServer({ a: 120 })

    await run(server)

    expect(server.requests[0]).toMatchObject({ limit: 50, continueToken: undefined })
    expect(server.requests[0]?.resourceVersion).toBeUndefined()
    for (const later of server.requests.slice(1)) {
      expect(later.continueToken).toBeTruthy()
      expect(later.resourceVersion).toBeUndefined()
    }
  })

  it('keeps the snapshot of the first page although objects change during the list', async () => {
    const server = new FakeListServer({ a: 100 })
    const pages: ListPage[] = []
    const generator = listPages(server.list, { resolved: configMaps, pageSize: 50, policy })
    for await (const page of generator) {
      pages.push(page)
      server.put(configMap('late', 'a', ''))
    }

    expect(pages).toHaveLength(2)
    expect(pages.flatMap((p) => p.items).some((o) => o.metadata.name === 'late')).toBe(false)
  })

  it('retries a page that failed with a connection reset, with the same continue token', async () => {
    const server = new FakeListServer({ a: 120 })
    server.failOnce(resetError(), (r) => r.continueToken !== undefined)

    const { pages, error } = await run(server)

    expect(error).toBeUndefined()
    expect(pages.map((p) => p.page)).toEqual([1, 2, 3])
    expect(server.requests[1]?.continueToken).toBeDefined()
    expect(server.requests[2]?.continueToken).toBe(server.requests[1]?.continueToken)
  })

  it('retries a 503 and honours a 429 Retry-After', async () => {
    const server = new FakeListServer({ a: 10 })
    server.failOnce(status(503, 'ServiceUnavailable', 'etcd is not ready'))
    server.failOnce(status(429, 'TooManyRequests', 'slow down', {}, { 'retry-after': '7' }))
    const started = Date.now()

    const { pages, error } = await run(server)

    expect(error).toBeUndefined()
    expect(pages).toHaveLength(1)
    expect(server.requests).toHaveLength(3)
    // 1 s backoff after the 503, then Retry-After's 7 s over a 2 s backoff.
    expect(Date.now() - started).toBeGreaterThanOrEqual(800 + 7000)
  })

  it('does not retry a 403, and names the resource and page', async () => {
    const server = new FakeListServer({ a: 10 })
    server.failOnce(status(403, 'Forbidden', 'configmaps is forbidden: User "r" cannot list'))

    const { error } = await run(server)

    expect(server.requests).toHaveLength(1)
    expect(error).toMatchObject({
      name: 'FatalOperationError',
      context: { resource: 'v1/configmaps', page: 1 },
    })
    expect((error as Error).message).toContain('http-403')
  })

  it('restarts the list when a continue token expired, and marks the restart', async () => {
    const server = new FakeListServer({ a: 120 })
    let compacted = false
    const pages: ListPage[] = []
    for await (const page of listPages(server.list, {
      resolved: configMaps,
      pageSize: 50,
      policy,
    })) {
      pages.push(page)
      if (!compacted && page.page === 2) {
        server.remove('uid-a-cm-0000')
        server.compact()
        compacted = true
      }
    }

    expect(pages.map((p) => [p.page, p.restarted, p.consistent])).toEqual([
      [1, false, true],
      [2, false, true],
      [1, true, true],
      [2, false, true],
      [3, false, true],
    ])
    const afterRestart = pages.slice(2)
    expect(new Set(afterRestart.map((p) => p.listResourceVersion))).toEqual(
      new Set([server.resourceVersion]),
    )
    expect(seenAfterLastRestart(pages).sort()).toEqual(server.liveUids().sort())
  })

  it('follows the inconsistent continue token once restarts are used up, and says the pass is not consistent', async () => {
    const server = new FakeListServer({ a: 120 })
    const pages: ListPage[] = []
    const generator = listPages(server.list, {
      resolved: configMaps,
      pageSize: 50,
      policy,
      maxRestarts: 1,
    })
    let step = await generator.next()
    while (!step.done) {
      pages.push(step.value)
      if (step.value.page === 1) server.compact() // every page 2 finds its token expired
      step = await generator.next()
    }

    expect(pages.map((p) => [p.page, p.restarted, p.consistent])).toEqual([
      [1, false, true],
      [1, true, true],
      [2, false, false],
      [3, false, false],
    ])
    expect(step.value).toMatchObject({ restarts: 1, consistent: false })
    expect(seenAfterLastRestart(pages)).toHaveLength(120)
  })

  it('follows the inconsistent token at once when the caller says there is no time to restart', async () => {
    const server = new FakeListServer({ a: 120 })
    const asked: unknown[] = []
    const pages: ListPage[] = []
    const options = {
      resolved: configMaps,
      pageSize: 50,
      policy,
      allowInconsistentContinue: (state: unknown) => (asked.push(state), true),
    }
    for await (const page of listPages(server.list, options)) {
      pages.push(page)
      if (page.page === 1) server.compact()
    }

    expect(asked).toEqual([
      { resource: 'v1/configmaps', namespace: undefined, page: 2, restarts: 0 },
    ])
    expect(pages.map((p) => p.consistent)).toEqual([true, false, false])
    expect(pages.some((p) => p.restarted)).toBe(false)
  })

  it('fails without deleting anything when the token expired and the server offered no other', async () => {
    const server = new FakeListServer({ a: 120 })
    server.failOnce(status(410, 'Expired', 'too old'), (r) => r.continueToken !== undefined)

    const { error } = await run(server, { maxRestarts: 0 })

    expect(error).toMatchObject({
      name: 'SyncError',
      context: { resource: 'v1/configmaps', page: 2 },
    })
    expect((error as Error).cause).toBeDefined()
  })

  it('lists chosen namespaces one after the other, each with its own list resourceVersion', async () => {
    const server = new FakeListServer({ a: 70, b: 30, c: 5 })

    const { pages, summary } = await run(server, { namespaces: ['a', 'b'] })

    expect(pages.map((p) => [p.namespace, p.page, p.items.length])).toEqual([
      ['a', 1, 50],
      ['a', 2, 20],
      ['b', 3, 30],
    ])
    expect(server.requests.map((r) => r.namespace)).toEqual(['a', 'a', 'b'])
    expect(Object.keys(summary!.resourceVersions)).toEqual(['a', 'b'])
  })

  it('lists a cluster-scoped resource once even when namespaces are given', async () => {
    const server = new FakeListServer({ a: 3 })

    await run(server, { namespaces: ['a', 'b'], resolved: { ...configMaps, namespaced: false } })

    expect(server.requests.map((r) => r.namespace)).toEqual([undefined])
  })

  it('stops at the deadline between pages', async () => {
    const server = new FakeListServer({ a: 120 })
    const deadline = new AbortController()
    const pages: ListPage[] = []
    const consume = async () => {
      for await (const page of listPages(server.list, {
        resolved: configMaps,
        pageSize: 50,
        policy,
        signal: deadline.signal,
      })) {
        pages.push(page)
        deadline.abort()
      }
    }

    await expect(consume()).rejects.toMatchObject({ name: 'DeadlineError' })
    expect(pages).toHaveLength(1)
  })

  it('a 400 from the server (a broken rule) is fatal', async () => {
    const server = new FakeListServer({ a: 1 })
    const broken = async () => {
      await server.list({
        resolved: configMaps,
        limit: 5,
        continueToken: 'x',
        resourceVersion: '5',
      })
    }
    await expect(broken()).rejects.toBeInstanceOf(KubeApiError)
  })

  it('asks a page over its byte cap again with half the limit, keeps that limit, and completes', async () => {
    const server = new FakeListServer({ a: 120 })
    const { pages, summary, error } = await run(server, {
      pageSize: 100,
      maxPageBytes: 30 * OBJECT_BYTES,
      minPageSize: 5,
    })

    expect(error).toBeUndefined()
    expect(server.requests.map((r) => [r.limit, r.maxBytes])).toEqual([
      [100, 30 * OBJECT_BYTES],
      [50, 30 * OBJECT_BYTES],
      [25, 30 * OBJECT_BYTES],
      [25, 30 * OBJECT_BYTES],
      [25, 30 * OBJECT_BYTES],
      [25, 30 * OBJECT_BYTES],
      [25, 30 * OBJECT_BYTES],
    ])
    expect(pages.map((p) => p.items.length)).toEqual([25, 25, 25, 25, 20])
    expect(summary).toMatchObject({ pages: 5, items: 120, consistent: true })
  })

  it('asks a continue page again where it stood, with the same token', async () => {
    const server = new FakeListServer({ a: 120 })
    const sizes = [1, 1, 40] // the third page's objects are 40 times larger
    let served = 0
    const list = byteCapped(
      async (request) => {
        const raw = await server.list(request)
        return { ...raw, bytes: raw.items.length * OBJECT_BYTES * (sizes[served] ?? 1) }
      },
      () => served++,
    )
    const { pages, error } = await runWith(list, { pageSize: 50, maxPageBytes: 60 * OBJECT_BYTES })

    expect(error).toBeUndefined()
    expect(new Set(pages.flatMap((p) => p.items.map((o) => o.metadata.uid))).size).toBe(120)
    expect(server.requests.map((r) => r.limit)).toEqual([50, 50, 50, 25])
    const [, , third, again] = server.requests
    expect(again?.continueToken).toBe(third?.continueToken)
  })

  it('fails the pass when a page is over its byte cap even at the smallest limit', async () => {
    const server = new FakeListServer({ a: 10 })
    const { error } = await run(server, {
      pageSize: 8,
      maxPageBytes: OBJECT_BYTES / 2,
      minPageSize: 2,
    })

    expect(server.requests.map((r) => r.limit)).toEqual([8, 4, 2])
    expect((error as Error).message).toBe(
      `list v1/configmaps page 1: over K8S_LIST_PAGE_MAX_BYTES (${OBJECT_BYTES / 2} bytes) even with limit 2 (K8S_LIST_PAGE_MIN_SIZE 2)`,
    )
  })

  it('hands on the items the edge refused with their page', async () => {
    const server = new FakeListServer({ a: 3 })
    const refused = { key: 'invalid:1', reason: 'metadata.uid missing or not a non-empty string' }
    const { pages } = await runWith(
      async (request) => ({ ...(await server.list(request)), refused: [refused] }),
      {},
    )

    expect(pages[0]?.refused).toEqual([refused])
  })
})
