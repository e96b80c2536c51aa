/** Peak RSS and heap of this process, sampled every `intervalMs` (not estimated). */
export interface MemoryPeak {
  readonly peakRssMb: number
  readonly peakHeapMb: number
  readonly samples: number
}

const MB = 1024 * 1024

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
    peakRssMb: Math.round((rss / MB) * 10) / 10,
    peakHeapMb: Math.round((heap / MB) * 10) / 10,
    samples,
  })
  return {
    peak,
    phase: () => {
      sample()
      const result = {
        peakRssMb: Math.round((phaseRss / MB) * 10) / 10,
        peakHeapMb: Math.round((phaseHeap / MB) * 10) / 10,
        samples,
      }
      phaseRss = 0
      phaseHeap = 0
      return result
    },
    stop: () => {
      sample()
      clearInterval(timer)
      return peak()
    },
  }
}
