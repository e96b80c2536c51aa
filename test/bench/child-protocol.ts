import type { ReconcileReport } from '../../lib/sync/reconcile-resource.js'
import type { WatchReport } from '../../lib/sync/watch-resource.js'
import type { MemoryPeak } from './memory-sampler.js'

/** What run.ts tells child-sync.ts to do, over the IPC channel. */
export type ChildCommand =
  | {
      readonly type: 'reconcile'
      readonly id: number
      /** A manual resync of these namespaces; absent: a scheduled reconcile (`{}`). */
      readonly namespaces?: readonly string[]
    }
  | { readonly type: 'watch'; readonly id: number; readonly windowSeconds: number }
  | { readonly type: 'exit' }

export interface ChildSetup {
  readonly mongoUri: string
  readonly kubeconfig: string
  readonly dbName: string
  /** Environment overrides for loadConfig (bulk write and page size settings). */
  readonly settings: Record<string, string>
}

export type ChildReply =
  | { readonly type: 'ready' }
  | {
      readonly type: 'reconciled'
      readonly id: number
      readonly ms: number
      readonly report: ReconcileReport
      readonly statements: number
      /** MongoDB command time of the run (durations summed, concurrent ones too). */
      readonly mongoMs: number
    }
  | {
      readonly type: 'watched'
      readonly id: number
      readonly ms: number
      readonly report: WatchReport
      readonly statements: number
      /** `_id` -> epoch ms at which its last write was acknowledged. */
      readonly acks: Record<string, number>
    }
  | { readonly type: 'memory'; readonly memory: MemoryPeak }
  | { readonly type: 'error'; readonly message: string }
