import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { loadConfig } from '../../../lib/config.js'
import { DeadlineError } from '../../../lib/errors.js'
import type { ClusterSource } from '../../../lib/kube/cluster-source.js'
import type { ResolvedResource } from '../../../lib/kube/types.js'
import type { ResourceRef } from '../../../lib/resource-ref.js'
import { createDeadline, type Deadline } from '../../../lib/sync/deadline.js'
import { forEachResource, type FanOut } from '../../../lib/sync/fan-out.js'
import { LeaseLostError } from '../../../lib/sync/lease-keeper.js'
import { newResourceReport, type ResourceReport } from '../../../lib/sync/resource-report.js'
import type { RunDependencies } from '../../../lib/sync/run-dependencies.js'
import { FakeStore } from './fake-store.js'
import { cm } from './fakes.js'

const config = loadConfig({ SYNC_RESOURCES: 'v1/configmaps,v1/secrets' })
const deadlines: Deadline[] = []
afterEach(() => {
  for (const d of deadlines.splice(0)) d.dispose()
})

/** Two resources, each with a store of its own. */
function setup(options: { deadline?: Deadline; unresolvable?: string } = {}) {
  const stores = new Map<string, FakeStore>([
    ['v1/configmaps', new FakeStore()],
    ['v1/secrets', new FakeStore()],
  ])
  // The work is the test's: the fan-out only resolves.
  const source: ClusterSource = {
    resolve: (ref: ResourceRef): Promise<ResolvedResource> =>
      ref.id === options.unresolvable
        ? Promise.reject(new Error(`${ref.id}: the server could not find the requested resource`))
        : Promise.resolve({ ref, kind: 'Thing', namespaced: true, apiVersion: ref.version }),
    listPages: () => {
      throw new Error('the fan-out never lists')
    },
    watch: () => {
      throw new Error('the fan-out never watches')
    },
  }
  const deadline = options.deadline ?? createDeadline(60_000, 0)
  deadlines.push(deadline)
  const deps: RunDependencies = {
    config,
    source,
    storeFor: (resolved) => stores.get(resolved.ref.id)!,
    deadline,
    owner: 'this-invocation',
  }
  return { deps, stores }
}

/** A fan-out whose work records which leases it ran under, and completes. */
function fanOut(
  stores: Map<string, FakeStore>,
  overrides: Partial<FanOut<ResourceReport, object>> = {},
): FanOut<ResourceReport, object> & { leasesSeen: Array<string | undefined> } {
  const leasesSeen: Array<string | undefined> = []
  return {
    name: 'test',
    concurrency: 2,
    resources: undefined,
    manual: false,
    emptyReport: newResourceReport,
    outputFields: {},
    work: (resolved) => {
      leasesSeen.push(stores.get(resolved.ref.id)!.lease?.owner)
      return Promise.resolve(newResourceReport(resolved.ref.id, 'complete'))
    },
    ...overrides,
    leasesSeen,
  }
}

const taskOfThisInvocation = expect.stringMatching(/^this-invocation#\d+$/) as unknown

describe('forEachResource', () => {
  it('runs every configured resource under its lease, then gives the lease back', async () => {
    const { deps, stores } = setup()
    const plan = fanOut(stores)

    const output = await forEachResource(deps, plan)

    expect(output.ok).toBe(true)
    expect(output.resources.map((r) => [r.resource, r.status])).toEqual([
      ['v1/configmaps', 'complete'],
      ['v1/secrets', 'complete'],
    ])
    // Each task holds its lease under its own owner: the invocation's id and a task number.
    expect(plan.leasesSeen).toEqual([taskOfThisInvocation, taskOfThisInvocation])
    expect(new Set(plan.leasesSeen).size).toBe(2)
    expect([...stores.values()].map((s) => s.lease)).toEqual([undefined, undefined])
  })

  it('skips a resource whose lease another invocation holds, and a scheduled run is still ok', async () => {
    const { deps, stores } = setup()
    await stores.get('v1/secrets')!.acquireLease('another-invocation', 60_000)
    const expiresAt = new Date(stores.get('v1/secrets')!.lease!.expiresAt).toISOString()

    const output = await forEachResource(deps, fanOut(stores))

    expect(output.ok).toBe(true)
    expect(output.resources[1]).toMatchObject({
      resource: 'v1/secrets',
      status: 'skipped',
      error: `another invocation holds the lease: another-invocation, until ${expiresAt}`,
      inserted: 0,
    })
    expect(output.resources[0]!.status).toBe('complete')
  })

  it('says a manual run did not do what it was asked when another invocation holds a lease, naming it and its expiry', async () => {
    const { deps, stores } = setup()
    await stores.get('v1/secrets')!.acquireLease('reconcile/crashed-request', 60_000)
    const expiresAt = new Date(stores.get('v1/secrets')!.lease!.expiresAt).toISOString()
    const plan = fanOut(stores, { manual: true, resources: ['v1/configmaps', 'v1/secrets'] })

    const output = await forEachResource(deps, plan)

    expect(output.ok).toBe(false)
    expect(output.resources.map((r) => r.status)).toEqual(['complete', 'skipped'])
    expect(output.resources[1]!.error).toBe(
      `another invocation holds the lease: reconcile/crashed-request, until ${expiresAt}`,
    )
    expect(plan.leasesSeen).toEqual([taskOfThisInvocation])
  })

  it('keeps a manual run ok when every resource it asked for was done', async () => {
    const { deps, stores } = setup()

    const output = await forEachResource(deps, fanOut(stores, { manual: true }))

    expect(output.ok).toBe(true)
  })

  it('works a resource named twice once, under one task and one lease', async () => {
    const { deps, stores } = setup()
    const plan = fanOut(stores, {
      manual: true,
      resources: ['v1/configmaps', 'v1/secrets', 'v1/configmaps'],
    })

    const output = await forEachResource(deps, plan)

    expect(output.resources.map((r) => r.resource)).toEqual(['v1/configmaps', 'v1/secrets'])
    expect(plan.leasesSeen).toHaveLength(2)
  })

  it('reports a resource that failed as failed, and the others still run', async () => {
    const { deps, stores } = setup({ unresolvable: 'v1/configmaps' })

    const output = await forEachResource(deps, fanOut(stores))

    expect(output.ok).toBe(false)
    expect(output.resources.map((r) => r.status)).toEqual(['failed', 'complete'])
    expect(output.resources[0]!.error).toContain('could not find the requested resource')
  })

  it('starts nothing once the deadline has passed, and says so', async () => {
    const deadline = createDeadline(60_000, 0, AbortSignal.abort())
    const { deps, stores } = setup({ deadline })
    const plan = fanOut(stores)

    const output = await forEachResource(deps, plan)

    expect(plan.leasesSeen).toEqual([])
    expect(output.resources.map((r) => [r.status, r.error])).toEqual([
      ['partial', 'deadline reached before this resource started'],
      ['partial', 'deadline reached before this resource started'],
    ])
  })

  it('takes no lease when told not to (a dry run), so a held lease does not stop it', async () => {
    const { deps, stores } = setup()
    await stores.get('v1/secrets')!.acquireLease('another-invocation', 60_000)
    const plan = fanOut(stores, { lease: false, resources: ['v1/secrets'] })

    const output = await forEachResource(deps, plan)

    expect(output.resources.map((r) => r.status)).toEqual(['complete'])
    expect(plan.leasesSeen).toEqual(['another-invocation'])
  })

  it('puts the caller’s output fields beside ok, durationMs and the reports', async () => {
    const { deps, stores } = setup()

    const output = await forEachResource(deps, {
      ...fanOut(stores),
      outputFields: { dryRun: true },
    })

    expect(Object.keys(output)).toEqual(['ok', 'durationMs', 'dryRun', 'resources'])
  })
})

/** Resolves when `signal` fires, with its reason. */
const abortOf = (signal: AbortSignal) =>
  new Promise<unknown>((resolve) =>
    signal.addEventListener('abort', () => resolve(signal.reason), { once: true }),
  )

describe('forEachResource while the work runs (default lease: 60 s, renewed every 20 s)', () => {
  beforeEach(() => {
    vi.useFakeTimers()
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('keeps the lease renewed past its first TTL while the work runs', async () => {
    const { deps, stores } = setup()
    const secrets = stores.get('v1/secrets')!
    const seen: Array<number | undefined> = []
    const plan = fanOut(stores, {
      resources: ['v1/secrets'],
      work: async (resolved, store) => {
        await new Promise((resolve) => setTimeout(resolve, 90_000))
        seen.push(secrets.lease?.expiresAt)
        await store.saveListCheckpoint('9', {})
        return newResourceReport(resolved.ref.id, 'complete')
      },
    })
    const started = Date.now()

    const running = forEachResource(deps, plan)
    await vi.advanceTimersByTimeAsync(90_000)
    const output = await running

    expect(output.resources[0]!.status).toBe('complete')
    // Renewed at 20, 40, 60 and 80 s: the last one holds it until 140 s.
    expect(seen).toEqual([started + 140_000])
    expect(secrets.checkpoints).toEqual(['list:9'])
    expect(secrets.lease).toBeUndefined()
  })

  it('fails a resource whose lease was taken over mid-work, naming the lost lease, and lets no store call through after', async () => {
    const { deps, stores } = setup()
    const secrets = stores.get('v1/secrets')!
    let checkpoint: unknown
    const plan = fanOut(stores, {
      resources: ['v1/secrets'],
      work: async (resolved, store, signal) => {
        await store.write([{ type: 'insert', object: cm('a', '1') }])
        await abortOf(signal)
        checkpoint = await store.saveListCheckpoint('9', {}).then(
          () => 'saved',
          (error: unknown) => error,
        )
        return { ...newResourceReport(resolved.ref.id, 'partial'), inserted: 1 }
      },
    })

    const running = forEachResource(deps, plan)
    await vi.advanceTimersByTimeAsync(10_000)
    // Another invocation took the lease (say this one stalled past its expiry).
    secrets.lease = { owner: 'reconcile/next', expiresAt: Date.now() + 60_000 }
    const theirs = new Date(secrets.lease.expiresAt).toISOString()
    await vi.advanceTimersByTimeAsync(10_000) // the renewal at 20 s finds it
    const output = await running

    expect(output.ok).toBe(false)
    expect(output.resources[0]).toMatchObject({
      status: 'failed',
      inserted: 1,
      error: `lease of v1/secrets lost: taken over by reconcile/next, whose lease expires at ${theirs}`,
    })
    expect(checkpoint).toBeInstanceOf(LeaseLostError)
    expect(secrets.checkpoints).toEqual([])
    expect(secrets.lease?.owner).toBe('reconcile/next')
  })

  it('fails with the lost lease, not the error it caused, when the work throws after losing it', async () => {
    const { deps, stores } = setup()
    const plan = fanOut(stores, {
      resources: ['v1/secrets'],
      work: async (_resolved, _store, signal) => {
        throw new Error(`list stopped: ${String(await abortOf(signal))}`)
      },
    })

    const running = forEachResource(deps, plan)
    await vi.advanceTimersByTimeAsync(1_000)
    stores.get('v1/secrets')!.lease = { owner: 'watch/next', expiresAt: Date.now() + 60_000 }
    await vi.advanceTimersByTimeAsync(19_000)
    const output = await running

    expect(output.resources[0]).toMatchObject({ status: 'failed', inserted: 0 })
    expect(output.resources[0]!.error).toMatch(
      /^lease of v1\/secrets lost: taken over by watch\/next/,
    )
  })

  it('stops the work at the deadline through the same signal', async () => {
    const deadline = createDeadline(5_000, 0)
    const { deps, stores } = setup({ deadline })
    let reason: unknown
    const plan = fanOut(stores, {
      resources: ['v1/secrets'],
      work: async (resolved, _store, signal) => {
        reason = await abortOf(signal)
        return newResourceReport(resolved.ref.id, 'partial', 'deadline reached')
      },
    })

    const running = forEachResource(deps, plan)
    await vi.advanceTimersByTimeAsync(5_000)
    const output = await running

    expect(reason).toBeInstanceOf(DeadlineError)
    expect(output.resources[0]!.status).toBe('partial')
  })
})
