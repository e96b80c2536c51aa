import { ToxiproxyClient } from '../../stack/toxiproxy.js'
import { bulkNamespaces, ensureBulkConfigMaps } from '../bulk.js'
import { retriesOf } from '../invoke.js'
import { sleep, type Scenario } from '../scenario.js'
import { targets } from './common.js'

const resource = 'v1/configmaps'

/** Connection resets in the middle of chunks while 10,000 inserts go through the toxiproxy mongo link. */
export const row06: Scenario = {
  row: 6,
  fault: 'MongoDB connection reset mid-chunk, 10,000-operation write',
  quick: false,
  async run(ctx) {
    const seeded = await ensureBulkConfigMaps(ctx.kc)
    ctx.note(
      `10,000 ConfigMaps: ${seeded.created} created now (${(seeded.ms / 1000).toFixed(1)} s), the rest reused`,
    )
    const all = targets([resource], bulkNamespaces)
    const toxiproxy = new ToxiproxyClient(ctx.stack.TOXIPROXY_URL)
    const env = ctx.env({
      MONGODB_URI: ctx.stack.MONGODB_URI_TOXIPROXY,
      SYNC_RESOURCES: resource,
      K8S_LIST_PAGE_SIZE: '500',
    })
    let chunks = 0
    let cuts = 0
    const pending: Promise<void>[] = []
    // Every connection of the mongo link is reset (RST) for 300 ms: chunks in flight fail mid-write.
    const cut = async () => {
      cuts++
      await toxiproxy.addToxic('mongo', {
        type: 'reset_peer',
        name: 'cut',
        attributes: { timeout: 0 },
      })
      await sleep(300)
      await toxiproxy.removeToxic('mongo', 'cut')
    }
    ctx.faultStarts()
    const inv = await ctx.invoke('reconcile', { namespaces: bulkNamespaces }, env, {
      onLog: (line) => {
        if (line.event !== 'chunk.processed') return
        chunks++
        if (chunks === 10 || chunks === 45 || chunks === 80) pending.push(cut())
      },
      timeoutMs: 600_000,
    })
    await Promise.all(pending)
    const report = inv.result?.resources[0]
    // A cut lands on whatever MongoDB call is in flight: a chunk, its write token, a reconnect ping.
    const mongoRetries = retriesOf(inv).filter(
      (l) => l.event === 'chunk.failed' || /^mongo/i.test(l.error?.reason ?? ''),
    )
    ctx.expect(cuts === 3, `${cuts} cuts, expected 3`)
    ctx.expect(inv.exitCode === 0, `exit ${inv.exitCode}: ${report?.error ?? inv.text.join(' ')}`)
    // A chunk whose reply was lost was applied anyway: its retry finds the documents there (unchanged).
    const accounted = (report?.inserted ?? 0) + (report?.unchanged ?? 0)
    ctx.expect(
      accounted === 10_000,
      `inserted ${report?.inserted} + unchanged ${report?.unchanged}, expected 10000`,
    )
    ctx.expect(mongoRetries.length > 0, 'no MongoDB retry logged')
    const reasons = [...new Set(retriesOf(inv).map((l) => l.error?.reason ?? l.event))]
    ctx.note(
      `run 1: ${chunks} chunks, ${retriesOf(inv).length} retries (${reasons.join(', ')}), ${(inv.durationMs / 1000).toFixed(1)} s`,
    )
    await ctx.expectConverged(all)
    // Invariant 4: a resync with no change writes nothing.
    const again = await ctx.invoke(
      'reconcile',
      { namespaces: bulkNamespaces },
      ctx.env({ SYNC_RESOURCES: resource, K8S_LIST_PAGE_SIZE: '500' }),
    )
    const r2 = again.result?.resources[0]
    ctx.expect(
      again.exitCode === 0 && r2?.inserted === 0 && r2.updated === 0 && r2.deleted === 0,
      `resync wrote ${r2?.inserted}/${r2?.updated}/${r2?.deleted}`,
    )
  },
}
