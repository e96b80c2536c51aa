import type { NamespaceResyncFigure } from './namespace-resync.js'

/** The JSON shape (milliseconds, megabytes), and the namespaced resync's figure. */
export interface BenchResult {
  objects: number
  baseline: {
    listMs: number
    writeMs: number
    naiveSyncMs: number
    naiveResyncMs: number
    naiveResyncWrites: number
  }
  sync: {
    initialMs: number
    initialWrites: number
    resyncMs: number
    resyncWrites: number
    churnChanged: number
    churnMs: number
    churnWrites: number
  }
  syncDefaults: { initialMs: number; resyncMs: number }
  watch: { events: number; lagP50Ms: number; lagP99Ms: number }
  memory: { peakRssMb: number; peakHeapMb: number }
  /** A namespaced resync alone and beside other clusters' documents (namespace-resync.ts). */
  namespaceResync: NamespaceResyncFigure
}

/** What the run saw besides the fields (printed, and used by the scale docs). */
export interface BenchExtras {
  readonly tuned: string
  readonly defaults: string
  readonly server: string
  /** The sync children's node flags: Lambda's heap limits for the memory benched ('' = plain node). */
  readonly nodeFlags: string
  /** The Lambda memory (MB) those limits are for; 0 = plain node. */
  readonly lambdaMemoryMb: number
  /** The largest heap in use just after a full collection in the tuned sync process. */
  readonly liveHeapMb: number
  /** Bytes of the listed objects as served (JSON), summed. */
  readonly objectBytes: number
  readonly listPages: number
  readonly naiveCapped: boolean
  readonly naiveResyncCapped?: boolean
  readonly naiveCappedWrites: number
  readonly watchMissing: number
  readonly watchMaxMs: number
  readonly defaultsMemory: { peakRssMb: number; peakHeapMb: number }
  readonly reportCounts: Record<string, string>
}

export interface BenchOutcome {
  readonly result: BenchResult
  readonly extras: BenchExtras
}
