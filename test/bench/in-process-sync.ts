import type { Db } from 'mongodb'

import type { Config } from '../../lib/config.js'
import { createKubeClient } from '../../lib/kube/client.js'
import { clusterSource } from '../../lib/kube/cluster-source.js'
import { Breakers } from '../../lib/resilience/circuit-breaker.js'
import { secretValuePolicy } from '../../lib/runtime/fetched-secrets.js'
import { mongoResourceStore } from '../../lib/store/resource-store.js'
import { createPacing } from '../../lib/store/writes/adaptive-pacing.js'
import type { createDeadline } from '../../lib/sync/deadline.js'

/**
 * The sync's dependencies for runs in this process, wired as a warm Lambda container keeps
 * them: one set of breakers and one pacing for every run; a new deadline per run.
 */
export function inProcessSync(config: Config, db: Db, kubeconfig: string, owner: string) {
  const breakers = new Breakers(config)
  const pacing = createPacing(config)
  const kube = createKubeClient(
    { kind: 'file', path: kubeconfig },
    { requestTimeoutMs: config.k8s.requestTimeoutMs, guard: breakers.guardOf('kubernetes') },
  )
  const source = clusterSource(kube, config)
  const secrets = secretValuePolicy(config, {})
  return (deadline: ReturnType<typeof createDeadline>) => ({
    config,
    source,
    storeFor: (resolved: Parameters<typeof mongoResourceStore>[1]) =>
      mongoResourceStore(db, resolved, {
        config,
        secrets,
        guard: breakers.guardOf('mongodb'),
        pacing,
      }),
    deadline,
    owner,
  })
}
