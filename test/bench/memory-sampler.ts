/** Peak RSS and heap of this process, sampled every `intervalMs` (not estimated). */
export interface MemoryPeak {
  readonly peakRssMb: number
  readonly peakHeapMb: number
  readonly samples: number
}

const MB = 1024 * 1024

export function startMemorySampler(intervalMs = 50): { stop(): MemoryPeak; peak(): MemoryPeak } {
  let rss = 0
  let heap = 0
  let samples = 0
  const sample = () => {
    const usage = process.memoryUsage()
    rss = Math.max(rss, usage.rss)
    heap = Math.max(heap, usage.heapUsed)
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
    stop: () => {
      sample()
      clearInterval(timer)
      return peak()
    },
  }
}
