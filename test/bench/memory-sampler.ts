import { constants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks'

/** Peak RSS and heap of this process, sampled every `intervalMs` (not estimated). */
export interface MemoryPeak {
  readonly peakRssMb: number
  readonly peakHeapMb: number
  /**
   * The largest heap in use just after a full collection: what the sync
   * keeps alive (an upper bound, as it is read when V8 reports the collection).
   */
  readonly peakLiveHeapMb: number
  /** The kernel's high-water mark of RSS (getrusage maxrss): exact, where the samples may miss a spike. */
  readonly maxRssMb: number
  readonly samples: number
}

const MB = 1024 * 1024
const mb = (bytes: number) => Math.round((bytes / MB) * 10) / 10

const isFullCollection = (entry: PerformanceEntry) =>
  ((entry as { detail?: unknown }).detail as { kind?: number } | undefined)?.kind ===
  constants.NODE_PERFORMANCE_GC_MAJOR

export function startMemorySampler(intervalMs = 50): {
  stop(): MemoryPeak
  peak(): MemoryPeak
  /** The peak since the previous call (or the start): which phase holds the overall peak. */
  phase(): MemoryPeak
} {
  let rss = 0
  let heap = 0
  let samples = 0
  let phaseRss = 0
  let phaseHeap = 0
  let live = 0
  let phaseLive = 0
  const collections = new PerformanceObserver((list) => {
    if (!list.getEntries().some(isFullCollection)) return
    const used = process.memoryUsage().heapUsed
    live = Math.max(live, used)
    phaseLive = Math.max(phaseLive, used)
  })
  collections.observe({ entryTypes: ['gc'] })
  const sample = () => {
    const usage = process.memoryUsage()
    rss = Math.max(rss, usage.rss)
    heap = Math.max(heap, usage.heapUsed)
    phaseRss = Math.max(phaseRss, usage.rss)
    phaseHeap = Math.max(phaseHeap, usage.heapUsed)
    samples++
  }
  sample()
  const timer = setInterval(sample, intervalMs)
  timer.unref()
  const peak = () => ({
    peakRssMb: mb(rss),
    peakHeapMb: mb(heap),
    peakLiveHeapMb: mb(live),
    maxRssMb: mb(process.resourceUsage().maxRSS * 1024),
    samples,
  })
  return {
    peak,
    phase: () => {
      sample()
      const result = {
        peakRssMb: mb(phaseRss),
        peakHeapMb: mb(phaseHeap),
        peakLiveHeapMb: mb(phaseLive),
        maxRssMb: mb(process.resourceUsage().maxRSS * 1024),
        samples,
      }
      phaseRss = 0
      phaseHeap = 0
      phaseLive = 0
      return result
    },
    stop: () => {
      sample()
      clearInterval(timer)
      collections.disconnect()
      return peak()
    },
  }
}
