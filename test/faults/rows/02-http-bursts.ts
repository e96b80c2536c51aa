import {
  and,
  isContinuePage,
  isList,
  pathMatches,
  startFaultProxy,
} from '../../stack/fault-proxy.js'
import type { RequestInfo } from '../../stack/fault-rules.js'
import type { Scenario } from '../scenario.js'
import { allSeeded, syncResources, targets } from './common.js'

const listOf = (plural: string) => and(isList, pathMatches(new RegExp(`/${plural}$`)))
const firstPage = (req: RequestInfo) => !isContinuePage(req)

export const row02: Scenario = {
  row: 2,
  fault: 'bursts of 502/503/504 and 429 Retry-After on list pages',
  quick: true,
  needs: ['own-kube'],
  async run(ctx) {
    const namespaces = await ctx.seed(200)
    const proxy = await startFaultProxy({ kubeconfig: ctx.stack.KUBECONFIG! })
    ctx.defer(() => proxy.close())
    const rules = [
      proxy.addRule({
        match: and(listOf('configmaps'), firstPage),
        action: { kind: 'status', status: 502 },
        times: 2,
      }),
      proxy.addRule({
        match: and(listOf('secrets'), isContinuePage),
        action: { kind: 'status', status: 503 },
        skip: 1,
        times: 3,
      }),
      proxy.addRule({
        match: and(listOf('deployments'), isContinuePage),
        action: { kind: 'status', status: 504 },
        times: 2,
      }),
      proxy.addRule({
        match: and(listOf('widgets'), isContinuePage),
        action: { kind: 'status', status: 429, retryAfterSeconds: 1 },
        times: 2,
      }),
    ]
    const env = ctx.env({
      KUBECONFIG: proxy.kubeconfigPath,
      SYNC_RESOURCES: syncResources(allSeeded),
      K8S_LIST_PAGE_SIZE: '10',
      // Retry-After (1 s) is honoured within the cap.
      RETRY_MAX_DELAY_MS: '2000',
    })
    ctx.faultStarts()
    const inv = await ctx.invoke('reconcile', { namespaces }, env)
    ctx.expect(
      inv.exitCode === 0,
      `exit ${inv.exitCode}: ${JSON.stringify(inv.result?.resources.map((r) => r.error ?? r.status))}`,
    )
    const injected = rules.reduce((n, r) => n + r.applied, 0)
    ctx.expect(injected === 9, `${injected} faults injected, expected 9`)
    const retries = inv.logs.filter((l) => l.event === 'retry')
    for (const status of [502, 503, 504, 429]) {
      const want = rules
        .filter((r) => r.action.kind === 'status' && r.action.status === status)
        .reduce((n, r) => n + r.applied, 0)
      const got = retries.filter((l) => l.error?.reason === `http-${status}`).length
      ctx.expect(got === want, `${want} injected ${status}s, ${got} retries logged for them`)
    }
    const slow = retries.filter((l) => l.error?.reason === 'http-429' && Number(l.delayMs) < 1000)
    ctx.expect(slow.length === 0, `${slow.length} retries after 429 ignored Retry-After: 1`)
    await ctx.expectConverged(targets(allSeeded, namespaces))
  },
}
