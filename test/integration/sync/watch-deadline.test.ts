import { CoreV1Api } from '@kubernetes/client-node'
import { MongoClient, type Db } from 'mongodb'
import { afterEach, describe, expect, it } from 'vitest'
import type { ResolvedResource } from '../../../lib/kube/types.js'
import { Breakers } from '../../../lib/resilience/circuit-breaker.js'
import { stateIdOf, parseResourceRef } from '../../../lib/resource-ref.js'
import type { SyncState } from '../../../lib/store/bookkeeping/sync-state.js'
import { mongoResourceStore } from '../../../lib/store/resource-store.js'
import { createDeadline } from '../../../lib/sync/deadline.js'
import { runWatch, type WatchRunInput } from '../../../lib/sync/watch-run.js'
import { configMap } from '../../stack/seed-objects.js'
import { createTestNamespace, kubeConfigFrom, uniqueName } from '../../stack/test-helpers.js'
import { mongoUriThroughToxiproxy, ToxiproxyClient } from '../../stack/toxiproxy.js'
import { converged, divergence, harness, type Harness } from './harness.js'
import { secretValuePolicy } from '../../../lib/runtime/fetched-secrets.js'
import { captureOutput } from '../store/helpers.js'

const toxiproxy = new ToxiproxyClient()
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
const ref = parseResourceRef('v1/configmaps')!

/**
 * runWatch as the Lambda runs it: `budgetMs` is the invocation's time left,
 * the deadline fires `marginMs` before it (the harness's own watch keeps no margin).
 */
async function lambdaWatch(h: Harness, input: WatchRunInput, budgetMs: number, marginMs: number) {
  const deadline = createDeadline(budgetMs, marginMs)
  const secrets = secretValuePolicy(h.config, {})
  const options = {
    config: h.config,
    secrets,
    guard: new Breakers(h.config).guardOf('mongodb'),
    pacing: h.pacing,
  }
  const storeFor = (resolved: ResolvedResource) => mongoResourceStore(h.db, resolved, options)
  const started = Date.now()
  try {
    const output = await runWatch(
      { config: h.config, source: h.source, storeFor, deadline, owner: uniqueName('watch') },
      input,
    )
    return { output, wallMs: Date.now() - started, deadlineAt: deadline.at }
  } finally {
    deadline.dispose()
  }
}

describe('a watch under its deadline, with MongoDB cut or hanging', () => {
  const kc = kubeConfigFrom()
  const core = kc.makeApiClient(CoreV1Api)
  let h: Harness | undefined
  let direct: MongoClient | undefined

  afterEach(async () => {
    await toxiproxy.reset()
    await h?.close()
    await direct?.close()
    h = undefined
    direct = undefined
  })

  /** The sync reaches MongoDB through toxiproxy; the test reads sync_state directly. */
  async function setUp(overrides: Record<string, string> = {}): Promise<Db> {
    h = await harness(
      { SYNC_RESOURCES: 'v1/configmaps', ...overrides },
      process.env.KUBECONFIG,
      mongoUriThroughToxiproxy(),
    )
    direct = await new MongoClient(process.env.MONGODB_URI!).connect()
    return direct.db(h.db.databaseName)
  }

  const stateOf = (db: Db) =>
    db.collection<SyncState>('sync_state').findOne({ _id: stateIdOf(h!.config.clusterName, ref) })

  it('stops its writes at the deadline while MongoDB is cut: own report in time, partial, checkpoint unmoved, then converges', async () => {
    const ns = await createTestNamespace(kc, 'wdl')
    for (let i = 0; i < 5; i++)
      await core.createNamespacedConfigMap({ namespace: ns, body: configMap(`cm-${i}`, i) })
    const db = await setUp({
      // Retries that would outlast the invocation, as 5 attempts of 30 s server selection do.
      RETRY_MAX_ATTEMPTS: '100',
      MONGODB_SERVER_SELECTION_TIMEOUT_MS: '1000',
      ENABLE_CIRCUIT_BREAKER: 'false',
      LEASE_TTL_MS: '9000',
      LEASE_RENEW_INTERVAL_MS: '8500',
    })
    expect((await h!.reconcile()).ok).toBe(true)
    const before = await stateOf(db)
    expect(before?.watchResourceVersion).toBeTruthy()

    const budgetMs = 12_000
    const marginMs = 6_000
    const logs = captureOutput()
    let run: Awaited<ReturnType<typeof lambdaWatch>>
    try {
      const watching = lambdaWatch(h!, { windowSeconds: 30 }, budgetMs, marginMs)
      await sleep(1_000)
      await toxiproxy.setEnabled('mongo', false)
      for (let i = 5; i < 10; i++)
        await core.createNamespacedConfigMap({ namespace: ns, body: configMap(`cm-${i}`, i) })
      await core.deleteNamespacedConfigMap({ namespace: ns, name: 'cm-0' })
      run = await watching
    } finally {
      logs.restore()
    }
    expect(run.wallMs).toBeLessThan(budgetMs)
    expect(run.output.ok).toBe(false)
    const report = run.output.resources[0]!
    expect(report).toMatchObject({ status: 'partial' })
    expect(report.events).toBeGreaterThanOrEqual(6)
    expect(report.error).toMatch(/deadline/)
    // No chunk retried after the deadline beyond the one attempt in flight (1 s server selection).
    const retriesAfter = logs
      .events()
      .filter((l) => l.event === 'chunk.retrying')
      .filter((l) => Date.parse(String(l.timestamp)) > run.deadlineAt + 1_500)
    expect(retriesAfter).toEqual([])
    expect((await stateOf(db))?.watchResourceVersion).toBe(before?.watchResourceVersion)

    await toxiproxy.setEnabled('mongo', true)
    await sleep(2_500) // the cut run's lease could not be released: it expires
    const next = await lambdaWatch(h!, { windowSeconds: 3 }, 60_000, 10_000)
    expect(next.output.resources[0]).toMatchObject({ status: 'complete' })
    expect(await divergence(kc, h!.db, 'v1/configmaps', 'ConfigMap', [ns])).toMatchObject(converged)
  }, 60_000)

  it('leaves a resource with no checkpoint to the reconcile function: returns at once, relistNeeded, lists nothing', async () => {
    const ns = await createTestNamespace(kc, 'wnc')
    for (let i = 0; i < 3; i++)
      await core.createNamespacedConfigMap({ namespace: ns, body: configMap(`cm-${i}`, i) })
    const db = await setUp()
    const budgetMs = 5_000
    const started = Date.now()
    const output = await h!.watch({ windowSeconds: 30 }, budgetMs)
    expect(Date.now() - started).toBeLessThan(budgetMs)
    expect(output.ok).toBe(false)
    expect(output.resources[0]).toMatchObject({ status: 'partial', relistNeeded: true, relists: 0 })
    expect(await db.collection('configmaps').countDocuments()).toBe(0)
    expect((await stateOf(db))?.listResourceVersion ?? undefined).toBeUndefined()
  }, 30_000)

  it('returns its own report before the budget when MongoDB stops answering mid-window (timeout toxic)', async () => {
    const db = await setUp({ LEASE_TTL_MS: '9000', LEASE_RENEW_INTERVAL_MS: '8500' })
    expect((await h!.reconcile()).ok).toBe(true)
    const before = await stateOf(db)
    const budgetMs = 10_000
    const watching = lambdaWatch(h!, { windowSeconds: 3 }, budgetMs, 4_000)
    await sleep(1_000)
    // MongoDB takes every request and answers none: with the default 45 s socket
    // timeout, the window's checkpoint would wait far past the budget.
    await toxiproxy.addToxic('mongo', { type: 'timeout', attributes: { timeout: 0 } })
    const run = await watching
    expect(run.wallMs).toBeLessThan(budgetMs)
    expect(run.output.resources[0]).toMatchObject({ status: 'partial' })
    expect(run.output.resources[0]!.error).toMatch(/abandoned|deadline/)
    await toxiproxy.reset()
    expect((await stateOf(db))?.watchResourceVersion).toBe(before?.watchResourceVersion)
  }, 90_000)
})
