import { ToxiproxyClient } from '../../stack/toxiproxy.js'
import { retriesOf } from '../invoke.js'
import { sleep, type Scenario } from '../scenario.js'
import { allSeeded, syncResources, targets } from './common.js'

/** MongoDB answers slower than MONGODB_SOCKET_TIMEOUT_MS for a while: socket timeouts fire, writes are retried. */
export const row08: Scenario = {
  row: 8,
  fault: 'MongoDB slow (latency) so socket timeouts fire',
  quick: false,
  async run(ctx) {
    const namespaces = await ctx.seed(300)
    const all = targets(allSeeded, namespaces)
    const toxiproxy = new ToxiproxyClient(ctx.stack.TOXIPROXY_URL)
    const env = ctx.env({
      MONGODB_URI: ctx.stack.MONGODB_URI_TOXIPROXY,
      SYNC_RESOURCES: syncResources(allSeeded),
      K8S_LIST_PAGE_SIZE: '20',
      BULK_WRITE_BATCH_SIZE: '5',
      BULK_WRITE_BATCH_DELAY_MS: '150',
      // Both the socket timeout of open connections and the connect timeout of new ones fire.
      MONGODB_SOCKET_TIMEOUT_MS: '1000',
      MONGODB_TIMEOUT_MS: '1000',
      MONGODB_SERVER_SELECTION_TIMEOUT_MS: '1500',
    })
    let slow: Promise<void> | undefined
    let chunks = 0
    const run = await ctx.invoke('reconcile', { namespaces }, env, {
      onLog: (line) => {
        if (line.event === 'chunk.processed' && ++chunks === 3) {
          ctx.faultStarts()
          slow = (async () => {
            await toxiproxy.addToxic('mongo', {
              type: 'latency',
              name: 'slow',
              attributes: { latency: 1500 },
            })
            await sleep(3000)
            await toxiproxy.removeToxic('mongo', 'slow')
          })()
        }
      },
    })
    await slow
    const timeouts = retriesOf(run).filter((l) =>
      /timed? ?out|Timeout/i.test(`${l.error?.reason} ${l.error?.message}`),
    )
    ctx.expect(slow !== undefined, 'the latency was never injected')
    ctx.expect(
      timeouts.length > 0,
      `no socket-timeout retry logged (${retriesOf(run)
        .map((l) => l.error?.reason)
        .join(', ')})`,
    )
    ctx.note(
      `run 1: exit ${run.exitCode}, ${timeouts.length} timeout retries, ${retriesOf(run).length} retries in all`,
    )
    if (run.exitCode !== 0) {
      const healed = await ctx.invoke(
        'reconcile',
        { namespaces },
        {
          ...env,
          MONGODB_SOCKET_TIMEOUT_MS: '45000',
          MONGODB_TIMEOUT_MS: '30000',
          MONGODB_SERVER_SELECTION_TIMEOUT_MS: '30000',
        },
      )
      ctx.expect(healed.exitCode === 0, `next run exit ${healed.exitCode}`)
    }
    await ctx.expectConverged(all)
  },
}
