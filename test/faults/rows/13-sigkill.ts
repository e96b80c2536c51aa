import { churn } from '../cluster.js'
import type { Invocation } from '../invoke.js'
import { sleep, type Scenario, type ScenarioContext } from '../scenario.js'
import { awaitLeaseExpiry, leaseOf, stateId, targets } from './common.js'

const cm = 'v1/configmaps'
const widgets = 'example.com/v1/widgets'

interface State {
  listResourceVersion?: string
  watchResourceVersion?: string
}

async function stateOf(ctx: ScenarioContext, resource: string): Promise<State | null> {
  return (await ctx.db())
    .collection<State & { _id: string }>('sync_state')
    .findOne({ _id: stateId(ctx.cluster, resource) })
}

const killOn =
  (event: string) =>
  (line: { event?: string }, child: { kill: (s: NodeJS.Signals) => boolean }) => {
    if (line.event === event) child.kill('SIGKILL')
  }

/** The default LEASE_TTL_MS: a crashed holder frees its resource within this, whatever its budget. */
const LEASE_TTL_MS = 60_000

/**
 * SIGKILL right after a chunk is acknowledged, before the checkpoint that
 * covers it: reconcile and watch. An operator's resync at once is told the
 * resource is locked, by whom and until when (not ok); the runs after the
 * crashed leases' TTL converge exactly.
 */
export const row13: Scenario = {
  row: 13,
  fault: 'process SIGKILLed between a write and its checkpoint',
  quick: false,
  async run(ctx) {
    const namespaces = await ctx.seed(300)
    const all = [...targets([cm], namespaces), ...targets([widgets])]
    // Lambda's own budget (14 min): the crashed leases must not last it.
    const env = ctx.env({
      SYNC_RESOURCES: `${cm},${widgets}`,
      K8S_LIST_PAGE_SIZE: '20',
      BULK_WRITE_BATCH_SIZE: '10',
      BULK_WRITE_BATCH_DELAY_MS: '200',
      RUN_BUDGET_MS: '840000',
    })
    // Setup, not the fault: the first full list of Widgets gets a budget that fits
    // however many the cluster holds (other tests leave theirs behind).
    const setup = ctx.env({ SYNC_RESOURCES: `${cm},${widgets}`, RUN_BUDGET_MS: '120000' })
    const first = await ctx.invoke('reconcile', { resources: [widgets] }, setup)
    ctx.expect(first.exitCode === 0, `initial widgets reconcile exit ${first.exitCode}`)
    const watchFrom = (await stateOf(ctx, widgets))?.watchResourceVersion

    // Reconcile killed after its first acknowledged chunk: documents written, no checkpoint.
    ctx.faultStarts()
    const killedList: Invocation = await ctx.invoke(
      'reconcile',
      { resources: [cm], namespaces },
      env,
      {
        onLog: killOn('chunk.processed'),
      },
    )
    ctx.expect(
      killedList.signal === 'SIGKILL',
      `reconcile was not killed (exit ${killedList.exitCode})`,
    )
    const killedAt = Date.now()
    const written = await (await ctx.db()).collection('configmaps').countDocuments()
    ctx.expect(written > 0, 'the killed reconcile wrote nothing before the kill')
    await resyncAtOnce(ctx, env, namespaces, killedAt)

    // Watch killed after its first acknowledged write of events, before saveWatchCheckpoint.
    let churning: Promise<void> | undefined
    const killedWatch = await ctx.invoke('watch', { resources: [widgets], windowSeconds: 8 }, env, {
      onLog: (line, child) => {
        if (line.event === 'mongo.connected')
          churning ??= sleep(800).then(() =>
            churn(ctx.kc, widgets, namespaces, { creates: 5, updates: 5, deletes: 2 }),
          )
        killOn('chunk.processed')(line, child)
      },
    })
    await churning
    ctx.expect(
      killedWatch.signal === 'SIGKILL',
      `watch was not killed (exit ${killedWatch.exitCode})`,
    )
    const after = (await stateOf(ctx, widgets))?.watchResourceVersion
    ctx.note(
      `killed: reconcile after ${written} documents (checkpoint ${(await stateOf(ctx, cm))?.listResourceVersion ?? 'none'}), ` +
        `watch checkpoint ${watchFrom} -> ${after} (${after === watchFrom ? 'not saved: killed between write and checkpoint' : 'saved before the kill landed'})`,
    )

    const waited = await awaitLeaseExpiry(ctx, [cm, widgets])
    ctx.note(`waited ${(waited / 1000).toFixed(1)} s for the crashed leases to expire`)
    const healList = await ctx.invoke('reconcile', { resources: [cm], namespaces }, env)
    const healWatch = await ctx.invoke('watch', { resources: [widgets], windowSeconds: 3 }, env)
    ctx.expect(
      healList.exitCode === 0 && healWatch.exitCode === 0,
      `next runs exit ${healList.exitCode}, ${healWatch.exitCode}`,
    )
    await ctx.expectConverged(all)
  },
}

/**
 * An operator's resync right after the crash: the resource is still locked by
 * the dead holder, so the run says so (ok false, skipped, naming the holder
 * and when its lease expires), and that expiry is at most one TTL away.
 */
async function resyncAtOnce(
  ctx: ScenarioContext,
  env: Record<string, string>,
  namespaces: string[],
  killedAt: number,
): Promise<void> {
  const lease = await leaseOf(ctx, cm)
  if (!lease) return ctx.fail('the killed reconcile left no lease behind')
  const resync = await ctx.invoke('reconcile', { resources: [cm], namespaces }, env)
  const report = resync.result?.resources[0]
  const expected = `another invocation holds the lease: ${lease.owner}, until ${lease.expiresAt.toISOString()}`
  ctx.expect(
    resync.exitCode === 2 && resync.result?.ok === false,
    `resync right after the crash: exit ${resync.exitCode}, ok ${resync.result?.ok}`,
  )
  ctx.expect(
    report?.status === 'skipped' && report.error === expected,
    `resync right after the crash reported ${report?.status}: ${report?.error ?? resync.text.join(' ')} (expected skipped: ${expected})`,
  )
  const lockedMs = lease.expiresAt.getTime() - killedAt
  ctx.expect(
    lockedMs <= LEASE_TTL_MS,
    `the crashed lease outlives the kill by ${lockedMs} ms, more than one TTL (${LEASE_TTL_MS} ms)`,
  )
  ctx.note(
    `resync at once: ${report?.status} "${report?.error}", exit ${resync.exitCode}; the crashed lease expires ${(lockedMs / 1000).toFixed(1)} s after the kill`,
  )
}
