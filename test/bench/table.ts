import type { BenchOutcome } from './result.js'
import { perThousand } from './stats.js'

/** How the sync children ran: as a Lambda of some memory, or plain node. */
export function processOf(x: BenchOutcome['extras']): string {
  return x.lambdaMemoryMb > 0
    ? `node ${x.nodeFlags} (the Lambda runtime's heap limits for ${x.lambdaMemoryMb} MB)`
    : 'plain node (no heap flags: V8 sizes its heap from the machine)'
}

const ratio = (a: number, b: number) => (b > 0 ? `${(a / b).toFixed(2)}x` : '-')

/** The readable report of one run: figures, ratios to the baselines, and the targets. */
export function formatTable({ result: r, extras: x }: BenchOutcome): string {
  const n = r.objects
  const maxBase = Math.max(r.baseline.listMs, r.baseline.writeMs)
  const rows: [string, string, string][] = [
    ['baseline list (paginated, discarded)', `${r.baseline.listMs} ms`, `${x.listPages} pages`],
    ['baseline insertMany (database speed)', `${r.baseline.writeMs} ms`, ''],
    [
      'naive sync (unpaginated list + upserts)',
      `${x.naiveCapped ? '>= ' : ''}${r.baseline.naiveSyncMs} ms`,
      x.naiveCapped ? `stopped at the cap after ${x.naiveCappedWrites} of ${n} objects` : '',
    ],
    [
      'naive resync',
      `${x.naiveResyncCapped ? '>= ' : ''}${r.baseline.naiveResyncMs} ms`,
      `${r.baseline.naiveResyncWrites} writes${x.naiveResyncCapped ? ' (stopped at the cap)' : ''}`,
    ],
    [
      'sync initial',
      `${r.sync.initialMs} ms`,
      `${r.sync.initialWrites} writes; ${ratio(r.sync.initialMs, maxBase)} max(list, write) (target <= 1.3x)`,
    ],
    [
      'sync resync (no change)',
      `${r.sync.resyncMs} ms`,
      `${r.sync.resyncWrites} writes; ${ratio(r.sync.resyncMs, r.baseline.listMs)} list (<= 1.3x), ${ratio(r.sync.resyncMs, r.baseline.naiveResyncMs)} naive resync (<= 0.5x)`,
    ],
    [
      'sync churn (1%)',
      `${r.sync.churnMs} ms`,
      `${r.sync.churnChanged} changed, ${r.sync.churnWrites} writes`,
    ],
    [
      'defaults: initial / resync',
      `${r.syncDefaults.initialMs} / ${r.syncDefaults.resyncMs} ms`,
      '',
    ],
    [
      'watch lag p50 / p99',
      `${r.watch.lagP50Ms} / ${r.watch.lagP99Ms} ms`,
      `${r.watch.events} events, max ${x.watchMaxMs} ms, ${x.watchMissing} missing (target p99 <= 1000)`,
    ],
    [
      'memory of our sync (peak)',
      `RSS ${r.memory.peakRssMb} MB`,
      `heap ${r.memory.peakHeapMb} MB, live after full GC ${x.liveHeapMb} MB; defaults RSS ${x.defaultsMemory.peakRssMb} MB (target RSS <= 256 at 100k)`,
    ],
    [
      'time per 1,000 objects (initial)',
      `${perThousand(r.sync.initialMs, n)} ms`,
      `resync ${perThousand(r.sync.resyncMs, n)} ms`,
    ],
    [
      'namespaced resync: alone / beside',
      `${r.namespaceResync.aloneMs} / ${r.namespaceResync.besideMs} ms`,
      `${r.namespaceResync.objects} objects, ${r.namespaceResync.otherDocuments} other clusters' documents beside: ${r.namespaceResync.ratio}x (target <= 1.5x)`,
    ],
  ]
  const w0 = Math.max(...rows.map((row) => row[0].length))
  const w1 = Math.max(...rows.map((row) => row[1].length))
  const lines = rows.map(([a, b, c]) => `${a.padEnd(w0)}  ${b.padStart(w1)}  ${c}`)
  const objectMb = (x.objectBytes / 1024 / 1024).toFixed(1)
  return [
    `kube-mongo-sync bench: ${n} ConfigMaps (${objectMb} MB as served), ${x.server}`,
    `tuned: ${x.tuned}`,
    `defaults: ${x.defaults}`,
    `sync process: ${processOf(x)}`,
    '',
    ...lines,
  ].join('\n')
}
