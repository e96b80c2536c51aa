import { restartApiServer } from '../../stack/control.js'
import { churn, whenServed } from '../cluster.js'
import { eventsOf, statusOf, type Scenario } from '../scenario.js'
import { targets } from './common.js'

const resource = 'example.com/v1/widgets'

/** A real 410 on watch: the API server restarts, so the saved checkpoint is older than its watch cache. */
export const row05: Scenario = {
  row: 5,
  fault: 'real 410 on watch (checkpoint older than history)',
  quick: false,
  needs: ['own-kube'],
  async run(ctx) {
    const namespaces = await ctx.seed(100)
    const all = targets([resource])
    const env = ctx.env({ SYNC_RESOURCES: resource })
    const first = await ctx.invoke('reconcile', {}, env)
    ctx.expect(first.exitCode === 0, `initial reconcile exit ${first.exitCode}`)
    await churn(ctx.kc, resource, namespaces, { creates: 4, updates: 4, deletes: 2 })
    ctx.faultStarts()
    await restartApiServer()
    await whenServed(ctx.kc, resource, namespaces[0]!)
    await churn(ctx.kc, resource, namespaces, { creates: 4, updates: 4, deletes: 2 })
    const inv = await ctx.invoke('watch', { windowSeconds: 12 }, env)
    ctx.expect(eventsOf(inv, 'watch.expired').length > 0, 'no 410 on the watch')
    const report = inv.result?.resources.find((r) => r.resource === resource)
    ctx.expect(Number(report?.relists ?? 0) >= 1, `relists: ${report?.relists}`)
    ctx.expect(
      statusOf(inv, resource) === 'complete',
      `watch: ${statusOf(inv, resource)} ${report?.error ?? ''}`,
    )
    await ctx.expectConverged(all)
  },
}
