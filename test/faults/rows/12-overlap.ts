import { churn } from '../cluster.js'
import type { ResourceReport } from '../invoke.js'
import { sleep, type Scenario } from '../scenario.js'
import { targets } from './common.js'

const resources = ['v1/secrets', 'example.com/v1/widgets'] as const

/** Two reconciles and a watch at once on the same resources, while the cluster changes. */
export const row12: Scenario = {
  row: 12,
  fault: 'two reconciles + one watch overlapping',
  quick: true,
  async run(ctx) {
    const namespaces = await ctx.seed(200)
    const all = targets([...resources])
    const env = ctx.env({
      SYNC_RESOURCES: resources.join(','),
      K8S_LIST_PAGE_SIZE: '10',
      BULK_WRITE_BATCH_SIZE: '10',
    })
    ctx.faultStarts()
    let changes: Promise<void> | undefined
    const onLog = (l: { event?: string }) => {
      if (l.event !== 'mongo.connected' || changes) return
      changes = (async () => {
        for (let i = 0; i < 4; i++) {
          await churn(ctx.kc, 'example.com/v1/widgets', namespaces, {
            creates: 3,
            updates: 3,
            deletes: 1,
          })
          await sleep(500)
        }
      })()
    }
    const runs = await Promise.all([
      ctx.invoke('reconcile', {}, env, { onLog }),
      ctx.invoke('reconcile', {}, env),
      ctx.invoke('watch', { windowSeconds: 8 }, env),
    ])
    await changes
    const statuses = runs.map(
      (r) =>
        r.result?.resources.map((x) => `${x.resource}:${x.status}`).join(' ') ?? r.text.join(' '),
    )
    // A watch that takes a resource's lease before any reconcile has listed it
    // finds no checkpoint and leaves the first list to reconcile: that is its
    // documented answer (partial, relistNeeded, exit 2), not a fault. Anything
    // else must be complete, or skipped because the other run held the lease.
    const unexpected = runs.filter((r, i) => {
      const resources = r.result?.resources ?? []
      const expected = resources.every(
        (x) => x.status === 'complete' || x.status === 'skipped' || (i === 2 && beforeFirstList(x)),
      )
      const exit = resources.some((x) => x.status === 'partial') ? 2 : 0
      return !r.result || !expected || r.exitCode !== exit
    })
    ctx.expect(
      unexpected.length === 0,
      `exits ${runs.map((r) => r.exitCode).join(', ')}: ${statuses.join(' | ')}`,
    )
    const skipped = runs
      .flatMap((r) => r.result?.resources ?? [])
      .filter((r) => r.status === 'skipped').length
    ctx.note(`overlapping runs: ${statuses.join(' | ')} (${skipped} skipped by the lease)`)
    // Convergence is promised after the next scheduled window (changes after the watch ended are the next one's).
    const next = await ctx.invoke('watch', { windowSeconds: 3 }, env)
    ctx.expect(next.exitCode === 0, `next window exit ${next.exitCode}`)
    await ctx.expectConverged(all)
  },
}

/** The watch's report for a resource no reconcile had listed yet (docs/design.md#watch). */
function beforeFirstList(report: ResourceReport): boolean {
  return (
    report.status === 'partial' &&
    report.relistNeeded === true &&
    (report.error ?? '').startsWith('no checkpoint yet')
  )
}
