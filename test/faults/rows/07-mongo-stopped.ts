import { startMongo, stopMongo } from '../../stack/control.js'
import { churn } from '../cluster.js'
import { retriesOf } from '../invoke.js'
import { sleep, type Scenario } from '../scenario.js'
import { allSeeded, awaitLeaseExpiry, syncResources, targets } from './common.js'

/** FerretDB stopped for 10 s in the middle of a run, then started again. */
export const row07: Scenario = {
  row: 7,
  fault: 'MongoDB stopped 10 s mid-run, then started',
  quick: false,
  needs: ['own-mongo'],
  async run(ctx) {
    const namespaces = await ctx.seed(300)
    const all = targets(allSeeded, namespaces)
    const base = ctx.env({ SYNC_RESOURCES: syncResources(allSeeded), K8S_LIST_PAGE_SIZE: '20' })
    const first = await ctx.invoke('reconcile', { namespaces }, base)
    ctx.expect(first.exitCode === 0, `initial reconcile exit ${first.exitCode}`)
    await ctx.expectConverged(all)
    await churn(ctx.kc, 'v1/configmaps', namespaces, { creates: 20, updates: 20, deletes: 10 })
    await churn(ctx.kc, 'example.com/v1/widgets', namespaces, {
      creates: 10,
      updates: 10,
      deletes: 5,
    })
    // Objects created by the churn have no document yet; every other live object has one.
    const before = new Set((await ctx.check(all)).flatMap((d) => d.lost))

    let outage: Promise<void> | undefined
    const env = {
      ...base,
      // ~85 changed objects in chunks of 2, 300 ms apart: the writes outlast the outage's start.
      BULK_WRITE_BATCH_SIZE: '2',
      BULK_WRITE_BATCH_DELAY_MS: '300',
      MONGODB_SERVER_SELECTION_TIMEOUT_MS: '2000',
      // A lease left unreleased while MongoDB was down expires one LEASE_TTL_MS after its renewal.
      RUN_BUDGET_MS: '40000',
    }
    const run = await ctx.invoke('reconcile', { namespaces }, env, {
      onLog: (line) => {
        if (line.event === 'chunk.processed' && !outage) {
          ctx.faultStarts()
          outage = (async () => {
            await stopMongo()
            await sleep(10_000)
            await startMongo()
          })()
        }
      },
    })
    await outage
    ctx.expect(outage !== undefined, 'the run wrote nothing before the outage could start')
    const mongoRetries = retriesOf(run).length
    ctx.expect(mongoRetries > 0, 'no retry logged during the outage')
    // No false deletes: whatever the first run managed, every live object it had stays.
    const mid = await ctx.check(all)
    const falseDeletes = mid.flatMap((d) => d.lost).filter((uid) => !before.has(uid))
    ctx.expect(
      falseDeletes.length === 0,
      `${falseDeletes.length} live objects lost their document during the outage`,
    )
    ctx.note(
      `run during the outage: exit ${run.exitCode}, ${mongoRetries} retries; ${JSON.stringify(run.result?.resources.map((r) => r.status) ?? run.text)}`,
    )
    if (run.exitCode !== 0) {
      let healed = await ctx.invoke('reconcile', { namespaces }, base)
      const skipped = healed.result?.resources.filter((r) => r.status === 'skipped') ?? []
      if (skipped.length > 0) {
        // The failed run could not release its leases (MongoDB was down): see the report.
        const waited = await awaitLeaseExpiry(
          ctx,
          skipped.map((r) => r.resource),
        )
        ctx.note(
          `next run skipped ${skipped.map((r) => r.resource).join(', ')} (lease left by the failed run); waited ${(waited / 1000).toFixed(1)} s`,
        )
        healed = await ctx.invoke('reconcile', { namespaces }, base)
      }
      const statuses = healed.result?.resources.map((r) => r.status) ?? []
      ctx.expect(
        healed.exitCode === 0 && statuses.every((s) => s === 'complete'),
        `next run exit ${healed.exitCode}: ${statuses.join(', ')}`,
      )
    }
    await ctx.expectConverged(all)
  },
}
