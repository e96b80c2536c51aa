import type { Config } from './config.js'
import { logger } from './log.js'
import { redactUri } from './redact.js'

/** The fault-tolerance contract's start-up summary (retry, timeouts, bulk write, features), redacted. */
export function configSummary(config: Config): Record<string, unknown> {
  return {
    retry: config.retry,
    timeouts: {
      mongodbConnectMs: config.mongodb.connectTimeoutMs,
      mongodbSocketMs: config.mongodb.socketTimeoutMs,
      mongodbServerSelectionMs: config.mongodb.serverSelectionTimeoutMs,
      k8sRequestMs: config.k8s.requestTimeoutMs,
      k8sWatchMs: config.k8s.watchTimeoutMs,
    },
    bulkWrite: config.bulkWrite,
    features: config.features,
    mongodb: {
      source: config.mongodb.secretId ? 'secrets-manager' : config.mongodb.uri ? 'env' : 'unset',
      secretId: config.mongodb.secretId,
      uri: config.mongodb.secretId ? undefined : redactUri(config.mongodb.uri),
      db: config.mongodb.db,
      pool: { min: config.mongodb.poolMin, max: config.mongodb.poolMax },
    },
    kubernetes: {
      source: config.k8s.kubeconfigSecretId
        ? 'secrets-manager'
        : config.k8s.eksClusterName
          ? 'eks'
          : config.k8s.kubeconfigPath
            ? 'kubeconfig-file'
            : 'unset',
      kubeconfigSecretId: config.k8s.kubeconfigSecretId,
      eksClusterName: config.k8s.eksClusterName,
      kubeconfigPath: config.k8s.kubeconfigPath,
      listPageSize: config.k8s.listPageSize,
    },
    cluster: config.clusterName,
    resources: config.resources.map((r) => r.id),
    watchWindowSeconds: config.watchWindowSeconds,
    runBudgetMs: config.runBudgetMs,
    lease: config.lease,
    secrets: {
      mode: config.secrets.mode,
      annotationAllowlist: config.secrets.annotationAllowlist,
      hashKey: config.secrets.hashKey
        ? '<redacted>'
        : config.secrets.hashKeySecretId
          ? 'secrets-manager'
          : 'unset',
    },
  }
}

/** Logs the configuration as one structured event (docs/resilience.md#the-fault-tolerance-contract). */
export function logConfig(config: Config): void {
  logger.info('Application Configuration', { event: 'configuration', ...configSummary(config) })
}
