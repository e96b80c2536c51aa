import { retriesOf } from '../invoke.js'
import { errorOf, statusOf, type Scenario } from '../scenario.js'
import { targets } from './common.js'

export const row14: Scenario = {
  row: 14,
  fault: 'restricted credentials: 403 on some resources',
  quick: true,
  needs: ['own-kube'],
  async run(ctx) {
    const namespaces = await ctx.seed(100)
    const env = ctx.env({
      KUBECONFIG: ctx.stack.KUBECONFIG_RESTRICTED,
      SYNC_RESOURCES: 'v1/configmaps,v1/secrets,apps/v1/deployments',
      K8S_LIST_PAGE_SIZE: '10',
    })
    ctx.faultStarts()
    const inv = await ctx.invoke('reconcile', { namespaces }, env)
    ctx.expect(inv.exitCode === 2, `exit ${inv.exitCode}, expected 2 (run reported failures)`)
    ctx.expect(
      statusOf(inv, 'v1/configmaps') === 'complete',
      `configmaps ${statusOf(inv, 'v1/configmaps')}`,
    )
    for (const resource of ['v1/secrets', 'apps/v1/deployments']) {
      const error = errorOf(inv, resource) ?? ''
      ctx.expect(
        statusOf(inv, resource) === 'failed' && /403|forbidden/i.test(error),
        `${resource}: ${statusOf(inv, resource)} ${error}`,
      )
    }
    ctx.expect(retriesOf(inv).length === 0, `${retriesOf(inv).length} retries`)
    const db = await ctx.db()
    for (const name of ['secrets', 'deployments.apps']) {
      const n = await db.collection(name).countDocuments()
      ctx.expect(n === 0, `${n} documents in ${name}`)
    }
    await ctx.expectConverged(targets(['v1/configmaps'], namespaces))
    ctx.note(`secrets: ${errorOf(inv, 'v1/secrets')}`)
  },
}
