import type { Config } from '../config.js'
import type { ClusterSource } from '../kube/cluster-source.js'
import type { ResolvedResource } from '../kube/types.js'
import type { ResourceStore } from '../store/resource-store.js'
import type { Deadline } from './deadline.js'

/** What a reconcile or watch run works with: one invocation's cluster, MongoDB, deadline and lease owner. */
export interface RunDependencies {
  readonly config: Config
  readonly source: ClusterSource
  readonly storeFor: (resolved: ResolvedResource) => ResourceStore
  readonly deadline: Deadline
  /** Identifies this invocation in leases (the Lambda request id). */
  readonly owner: string
}
