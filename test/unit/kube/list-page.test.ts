import { afterEach, describe, expect, it, vi } from 'vitest'
import { classify } from '../../../lib/classify.js'
import { inconsistentContinueOf, KubeApiError } from '../../../lib/kube/errors.js'
import { makeListPage } from '../../../lib/kube/list-page.js'
import { fakeTransport } from './fakes/fake-transport.js'
import { configMaps, resolvedOf } from './fakes/resources.js'

const widgets = resolvedOf('example.com/v1/widgets', 'Widget')
const nodes = resolvedOf('v1/nodes', 'Node', false)
const emptyList = { kind: 'List', metadata: { resourceVersion: '7' }, items: [] }

describe('listPage', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it('asks the collection path of core, grouped, namespaced and cluster-scoped resources', async () => {
    const transport = fakeTransport(() => ({ json: emptyList }))
    const list = makeListPage(transport, { timeoutMs: 1000 })

    await list({ resolved: configMaps, limit: 50 })
    await list({ resolved: configMaps, namespace: 'team-a', limit: 50 })
    await list({ resolved: widgets, namespace: 'x', limit: 5, continueToken: 'tok' })
    await list({
      resolved: nodes,
      limit: 5,
      resourceVersion: '0',
      resourceVersionMatch: 'NotOlderThan',
    })

    expect(transport.requests.map((r) => [r.path, r.query])).toEqual([
      [
        '/api/v1/configmaps',
        {
          limit: '50',
          continue: undefined,
          resourceVersion: undefined,
          resourceVersionMatch: undefined,
        },
      ],
      ['/api/v1/namespaces/team-a/configmaps', expect.objectContaining({ limit: '50' })],
      [
        '/apis/example.com/v1/namespaces/x/widgets',
        expect.objectContaining({ limit: '5', continue: 'tok' }),
      ],
      [
        '/api/v1/nodes',
        expect.objectContaining({ resourceVersion: '0', resourceVersionMatch: 'NotOlderThan' }),
      ],
    ])
  })

  it('refuses to send resourceVersion with continue', async () => {
    const list = makeListPage(
      fakeTransport(() => ({ json: emptyList })),
      { timeoutMs: 1000 },
    )

    await expect(
      list({ resolved: configMaps, limit: 5, continueToken: 't', resourceVersion: '9' }),
    ).rejects.toThrow(/must not be sent with continue/)
  })

  it('returns items with apiVersion and kind filled in, and the continue token', async () => {
    const item = { metadata: { name: 'a', uid: 'u', resourceVersion: '5' }, data: { k: 'v' } }
    const transport = fakeTransport(() => ({
      json: { metadata: { resourceVersion: '7', continue: 'next' }, items: [item] },
    }))

    const page = await makeListPage(transport, { timeoutMs: 1000 })({
      resolved: configMaps,
      limit: 1,
    })

    expect(page.metadata).toEqual({ resourceVersion: '7', continue: 'next' })
    expect(page.items[0]).toEqual({ apiVersion: 'v1', kind: 'ConfigMap', ...item })
  })

  it('refuses items without usable uid, name or resourceVersion, and keeps the rest', async () => {
    const good = { metadata: { name: 'a', uid: 'u-a', resourceVersion: '5' } }
    const operator = { metadata: { name: 'b', uid: { $gt: '' }, resourceVersion: '5' } }
    const noVersion = { metadata: { name: 'c', uid: 'u-c' } }
    const transport = fakeTransport(() => ({
      json: { metadata: { resourceVersion: '7' }, items: [good, operator, noVersion] },
    }))

    const page = await makeListPage(transport, { timeoutMs: 1000 })({
      resolved: configMaps,
      limit: 3,
    })

    expect(page.items.map((o) => o.metadata.name)).toEqual(['a'])
    expect(page.refused).toEqual([
      {
        key: expect.stringMatching(/^invalid:/),
        name: 'b',
        resourceVersion: '5',
        reason: 'metadata.uid missing or not a non-empty string',
      },
      {
        key: 'u-c',
        uid: 'u-c',
        name: 'c',
        reason: 'metadata.resourceVersion missing or not a non-empty string',
      },
    ])
  })

  it('fails, not retried, on a list whose own resourceVersion or continue is not a string', async () => {
    for (const metadata of [
      {},
      { resourceVersion: { $gt: '' } },
      { resourceVersion: '7', continue: 5 },
    ]) {
      const list = makeListPage(
        fakeTransport(() => ({ json: { metadata, items: [] } })),
        { timeoutMs: 1000 },
      )
      const error = await list({ resolved: configMaps, limit: 5 }).catch((e: unknown) => e)
      expect(error).toMatchObject({ name: 'ListParseError' })
      expect(classify(error).kind).toBe('fatal')
    }
  })

  it('stops reading a page over maxBytes with a distinct, not retried error', async () => {
    const items = Array.from({ length: 50 }, (_, i) => ({
      metadata: { name: `cm-${i}`, uid: `u-${i}`, resourceVersion: '5' },
      data: { blob: 'x'.repeat(1000) },
    }))
    const body = JSON.stringify({ metadata: { resourceVersion: '7' }, items })
    const transport = fakeTransport(() => ({ chunks: body.match(/[^]{1,4096}/g) ?? [] }))
    const list = makeListPage(transport, { timeoutMs: 1000 })

    const error = await list({ resolved: configMaps, limit: 50, maxBytes: 16 * 1024 }).catch(
      (e: unknown) => e,
    )

    expect(error).toMatchObject({
      name: 'KubeResponseTooLargeError',
      maxBytes: 16 * 1024,
      message: 'list v1/configmaps: the answer is over the cap of 16384 bytes',
    })
    expect(classify(error).kind).toBe('fatal')
    const whole = await list({ resolved: configMaps, limit: 50, maxBytes: body.length })
    expect(whole.items).toHaveLength(50)
  })

  it('keeps the status, the Status body (with the inconsistent continue token) of a 410', async () => {
    const status = {
      kind: 'Status',
      status: 'Failure',
      message: 'The provided continue parameter is too old to display a consistent list result.',
      reason: 'Expired',
      code: 410,
      metadata: { continue: 'inconsistent-token' },
    }
    const list = makeListPage(
      fakeTransport(() => ({ status: 410, json: status })),
      { timeoutMs: 1000 },
    )

    const error = await list({ resolved: configMaps, limit: 5, continueToken: 'old' }).catch(
      (e: unknown) => e,
    )

    expect(error).toBeInstanceOf(KubeApiError)
    expect(error).toMatchObject({ code: 410, reason: 'Expired', body: status })
    expect(classify(error).kind).toBe('expired')
    expect(inconsistentContinueOf(error)).toBe('inconsistent-token')
  })

  it('keeps Retry-After of a 429 so the retry waits as asked', async () => {
    const transport = fakeTransport(() => ({
      status: 429,
      headers: { 'retry-after': '3' },
      chunks: ['Too many requests'],
    }))

    const error = await makeListPage(transport, { timeoutMs: 1000 })({
      resolved: configMaps,
      limit: 5,
    }).catch((e: unknown) => e)

    expect(classify(error)).toEqual({ kind: 'transient', reason: 'http-429', retryAfterMs: 3000 })
    expect((error as KubeApiError).body).toBe('Too many requests')
  })

  it('gives up after K8S_REQUEST_TIMEOUT_MS with a transient timeout error', async () => {
    vi.useFakeTimers()
    const list = makeListPage(
      fakeTransport(() => ({ hang: true })),
      { timeoutMs: 30_000 },
    )

    const pending = list({ resolved: configMaps, limit: 5 }).catch((e: unknown) => e)
    await vi.advanceTimersByTimeAsync(30_000)
    const error = await pending

    expect(error).toMatchObject({
      name: 'KubeRequestTimeoutError',
      message: 'list v1/configmaps: no answer within 30000ms',
      context: { operation: 'list v1/configmaps', resource: 'v1/configmaps' },
    })
    expect(classify(error).kind).toBe('transient')
  })

  it('turns the caller abort into a deadline error, which is not retried', async () => {
    const deadline = new AbortController()
    const list = makeListPage(
      fakeTransport(() => ({ hang: true })),
      { timeoutMs: 30_000 },
    )

    const pending = list({ resolved: configMaps, limit: 5, signal: deadline.signal }).catch(
      (e: unknown) => e,
    )
    deadline.abort()

    expect(await pending).toMatchObject({ name: 'DeadlineError' })
    expect(classify(await pending).kind).toBe('fatal')
  })

  it('does not quote a body that is not JSON', async () => {
    const list = makeListPage(
      fakeTransport(() => ({ chunks: ['{"items":[{"data":{"password":"hunter2"'] })),
      {
        timeoutMs: 1000,
      },
    )

    const error = await list({ resolved: configMaps, limit: 5 }).catch((e: unknown) => e)

    expect((error as Error).message).not.toContain('hunter2')
    expect((error as Error).message).toMatch(/not valid JSON/)
  })
})
