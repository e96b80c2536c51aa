import { afterEach, describe, expect, it } from 'vitest'
import { loadConfig } from '../../../lib/config.js'
import type { ClusterSource } from '../../../lib/kube/cluster-source.js'
import type { ResolvedResource } from '../../../lib/kube/types.js'
import type { ResourceRef } from '../../../lib/resource-ref.js'
import { createDeadline, type Deadline } from '../../../lib/sync/deadline.js'
import { forEachResource, type FanOut } from '../../../lib/sync/fan-out.js'
import { newResourceReport, type ResourceReport } from '../../../lib/sync/resource-report.js'
import type { RunDependencies } from '../../../lib/sync/run-dependencies.js'
import { FakeStore } from './fake-store.js'

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
    expect(plan.leasesSeen).toEqual(['this-invocation', 'this-invocation'])
    expect([...stores.values()].map((s) => s.lease)).toEqual([undefined, undefined])
  })

  it('skips a resource whose lease another invocation holds, and the run is still ok', async () => {
    const { deps, stores } = setup()
    await stores.get('v1/secrets')!.acquireLease('another-invocation', 60_000)

    const output = await forEachResource(deps, fanOut(stores))

    expect(output.ok).toBe(true)
    expect(output.resources[1]).toMatchObject({
      resource: 'v1/secrets',
      status: 'skipped',
      error: 'another invocation holds the lease',
      inserted: 0,
    })
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
