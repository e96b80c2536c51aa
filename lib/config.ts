import { existsSync, readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { parseEnv } from 'node:util'
import type { ResourceRef } from './resource-ref.js'
import { variables, type ParsedVariables, type VariableName } from './config-variables.js'
import { ConfigError } from './errors.js'
import { resolveSecretMode } from './config-secret-mode.js'
import type { SecretMode } from './secret-policy.js'
import type { ClusterEntry } from './fleet/registry-schema.js'

/** The typed, frozen configuration. Units are in the names. */
export interface Config {
  readonly retry: {
    readonly maxAttempts: number
    readonly initialDelayMs: number
    readonly maxDelayMs: number
    readonly backoffMultiplier: number
  }
  readonly mongodb: {
    readonly uri: string | undefined
    readonly secretId: string | undefined
    readonly db: string
    readonly connectTimeoutMs: number
    readonly socketTimeoutMs: number
    readonly serverSelectionTimeoutMs: number
    readonly poolMax: number
    readonly poolMin: number
  }
  readonly k8s: {
    readonly kubeconfigPath: string | undefined
    readonly kubeconfigSecretId: string | undefined
    readonly eksClusterName: string | undefined
    readonly requestTimeoutMs: number
    readonly watchTimeoutMs: number
    readonly listPageSize: number
    /** K8S_LIST_PAGE_MAX_BYTES, K8S_LIST_PAGE_MIN_SIZE, K8S_WATCH_LINE_MAX_BYTES (docs/design.md#invariant-6-bounded). */
    readonly listPageMaxBytes: number
    readonly listPageMinSize: number
    readonly watchLineMaxBytes: number
  }
  readonly bulkWrite: {
    readonly batchSize: number
    readonly maxConcurrent: number
    readonly batchDelayMs: number
  }
  readonly features: {
    readonly k8sWatchReconnect: boolean
    readonly mongoReconnect: boolean
    readonly chunkedBulkWrite: boolean
    readonly circuitBreaker: boolean
    readonly adaptivePacing: boolean
  }
  readonly breaker: {
    readonly failureThreshold: number
    readonly halfOpenAfterMs: number
  }
  readonly pacing: {
    readonly latencyTargetMs: number
    readonly maxDelayMs: number
  }
  /** ALLOW_INSECURE_TLS: plain text or unverified TLS to the API server or MongoDB (docs/security.md#transport). */
  readonly allowInsecureTls: boolean
  readonly clusterName: string
  readonly resources: readonly ResourceRef[]
  readonly watchWindowSeconds: number
  readonly runBudgetMs: number
  /** A resource's lease: its time to live, renewed every `renewIntervalMs` while the work runs. */
  readonly lease: {
    readonly ttlMs: number
    readonly renewIntervalMs: number
  }
  /** What is kept of a Secret (docs/design.md#secret-values). */
  readonly secrets: {
    readonly mode: SecretMode
    /** SECRET_HASH_KEY; with `hashKeySecretId` (which wins), set only in `hmac` mode. */
    readonly hashKey: string | undefined
    readonly hashKeySecretId: string | undefined
    readonly annotationAllowlist: readonly string[]
  }
  /**
   * The mass-delete guard: a complete list that would delete more than
   * `maxFraction` of at least `minStored` stored documents is held back
   * (lib/sync/mass-delete-guard.ts).
   */
  readonly massDelete: {
    readonly maxFraction: number
    readonly minStored: number
  }
  /** How long tombstones and dead letters are kept at most (lib/store/bookkeeping/expiry.ts). */
  readonly bookkeepingTtl: {
    readonly tombstoneDays: number
    readonly deadLetterDays: number
  }
  /**
   * Object history (lib/store/history/): the resources whose every observed
   * version is kept in `object_history`, and for how long (0: forever).
   */
  readonly history: {
    readonly resources: readonly ResourceRef[]
    readonly retentionDays: number
  }
  /** Fleets (docs/fleets.md): where the registry comes from, and how work is fanned out. */
  readonly fleet: {
    /** CLUSTERS, parsed; undefined when unset. */
    readonly clusters: readonly ClusterEntry[] | undefined
    readonly clustersSecretId: string | undefined
    readonly discovery:
      | {
          readonly tag: { readonly key: string; readonly value: string }
          readonly regions: readonly string[] | undefined
          readonly nameTag: string
        }
      | undefined
    readonly fanout: boolean
    readonly reconcileQueueUrl: string | undefined
    readonly watchQueueUrl: string | undefined
    readonly watchClustersPerWorker: number
    readonly reconcileTaskMaxAgeSeconds: number
    readonly watchTaskMaxAgeSeconds: number
    readonly workerRetryDelaySeconds: number
  }
  /** The health function's thresholds and its quick MongoDB check. */
  readonly health: {
    readonly maxSyncAgeSeconds: number
    /** 0: the watch is not checked. */
    readonly maxWatchAgeSeconds: number
    readonly mongoTimeoutMs: number
  }
}

export type Env = Readonly<Record<string, string | undefined>>

/**
 * Reads a `.env` file for local runs. Precedence: the process environment,
 * then `.env`, then the defaults; a variable set to the empty string counts as
 * unset (serverless.yml passes `${env:X, ''}` for optional ones).
 */
export function withDotEnv(env: Env, path = resolve(process.cwd(), '.env')): Env {
  if (!existsSync(path)) return env
  const fromFile = parseEnv(readFileSync(path, 'utf8'))
  const merged: Record<string, string | undefined> = { ...fromFile }
  for (const [k, v] of Object.entries(env)) if (v !== undefined && v !== '') merged[k] = v
  return merged
}

/**
 * Parses and validates every variable at once, so one run shows every problem.
 * Throws ConfigError whose message has one line per problem, each naming the
 * variable, the value (unless secret) and what is allowed.
 */
export function loadConfig(env: Env = process.env): Config {
  const problems: string[] = []
  const parsed: Record<string, unknown> = {}
  for (const spec of Object.values(variables)) {
    const raw = env[spec.name]
    const value = raw === undefined || raw.trim() === '' ? spec.default : raw.trim()
    if (value === undefined) {
      parsed[spec.name] = undefined
      continue
    }
    const result = spec.schema.safeParse(value)
    if (result.success) {
      parsed[spec.name] = result.data
    } else {
      const shown = spec.secret ? '<redacted>' : JSON.stringify(value)
      const detail = result.error.issues.find((i) => i.code === 'custom')?.message
      problems.push(
        `${spec.name}=${shown} is invalid: expected ${spec.allowed}${detail ? ` (${detail})` : ''}`,
      )
    }
  }
  const p = parsed as ParsedVariables
  if (problems.length === 0 && p.MONGO_POOL_MIN > p.MONGO_POOL_MAX) {
    problems.push(
      `MONGO_POOL_MIN=${p.MONGO_POOL_MIN} is invalid: expected ${variables.MONGO_POOL_MIN.allowed} (MONGO_POOL_MAX=${p.MONGO_POOL_MAX})`,
    )
  }
  if (problems.length === 0 && p.LEASE_RENEW_INTERVAL_MS >= p.LEASE_TTL_MS) {
    problems.push(
      `LEASE_RENEW_INTERVAL_MS=${p.LEASE_RENEW_INTERVAL_MS} is invalid: expected ${variables.LEASE_RENEW_INTERVAL_MS.allowed} (LEASE_TTL_MS=${p.LEASE_TTL_MS})`,
    )
  }
  if (problems.length === 0 && p.CLUSTERS && p.CLUSTERS_SECRET_ID) {
    problems.push(
      'CLUSTERS and CLUSTERS_SECRET_ID are both set: the registry comes from one place, unset one',
    )
  }
  if (problems.length === 0 && p.EKS_DISCOVERY_REGIONS && !p.EKS_DISCOVERY_TAG) {
    problems.push(
      'EKS_DISCOVERY_REGIONS is set without EKS_DISCOVERY_TAG: set the tag to discover by',
    )
  }
  if (problems.length === 0) problems.push(...unsyncedHistoryResources(p))
  const secretMode = resolveSecretMode(p)
  if (problems.length === 0 && 'problem' in secretMode) problems.push(secretMode.problem)
  if (problems.length > 0 || !('mode' in secretMode)) throw new ConfigError(problems)
  return deepFreeze(toConfig(p, secretMode.mode))
}

function toConfig(p: ParsedVariables, secretMode: SecretMode): Config {
  return {
    retry: {
      maxAttempts: p.RETRY_MAX_ATTEMPTS,
      initialDelayMs: p.RETRY_INITIAL_DELAY_MS,
      maxDelayMs: p.RETRY_MAX_DELAY_MS,
      backoffMultiplier: p.RETRY_BACKOFF_MULTIPLIER,
    },
    mongodb: mongodbConfig(p),
    k8s: k8sConfig(p),
    bulkWrite: {
      batchSize: p.BULK_WRITE_BATCH_SIZE,
      maxConcurrent: p.BULK_WRITE_MAX_CONCURRENT,
      batchDelayMs: p.BULK_WRITE_BATCH_DELAY_MS,
    },
    features: featuresConfig(p),
    breaker: {
      failureThreshold: p.BREAKER_FAILURE_THRESHOLD,
      halfOpenAfterMs: p.BREAKER_HALF_OPEN_AFTER_MS,
    },
    pacing: { latencyTargetMs: p.PACING_LATENCY_TARGET_MS, maxDelayMs: p.PACING_MAX_DELAY_MS },
    allowInsecureTls: p.ALLOW_INSECURE_TLS,
    clusterName: p.CLUSTER_NAME,
    resources: p.SYNC_RESOURCES,
    watchWindowSeconds: p.WATCH_WINDOW_SECONDS,
    runBudgetMs: p.RUN_BUDGET_MS,
    lease: { ttlMs: p.LEASE_TTL_MS, renewIntervalMs: p.LEASE_RENEW_INTERVAL_MS },
    secrets: {
      mode: secretMode,
      hashKey: p.SECRET_HASH_KEY,
      hashKeySecretId: p.SECRET_HASH_KEY_SECRET_ID,
      annotationAllowlist: p.SECRET_ANNOTATION_ALLOWLIST,
    },
    massDelete: {
      maxFraction: p.MASS_DELETE_MAX_FRACTION,
      minStored: p.MASS_DELETE_MIN_STORED,
    },
    bookkeepingTtl: {
      tombstoneDays: p.TOMBSTONE_TTL_DAYS,
      deadLetterDays: p.DEAD_LETTER_TTL_DAYS,
    },
    history: { resources: p.HISTORY_RESOURCES, retentionDays: p.HISTORY_RETENTION_DAYS },
    fleet: fleetConfig(p),
    health: {
      maxSyncAgeSeconds: p.HEALTH_MAX_SYNC_AGE_SECONDS,
      maxWatchAgeSeconds: p.HEALTH_MAX_WATCH_AGE_SECONDS,
      mongoTimeoutMs: p.HEALTH_MONGODB_TIMEOUT_MS,
    },
  }
}

/**
 * History is kept of synced resources only: each of HISTORY_RESOURCES must be
 * in SYNC_RESOURCES or in an inline registry cluster's resources. A registry
 * read at run time (CLUSTERS_SECRET_ID, discovery) cannot be checked here.
 */
function unsyncedHistoryResources(p: ParsedVariables): string[] {
  if (p.CLUSTERS_SECRET_ID || p.EKS_DISCOVERY_TAG) return []
  const synced = new Set(p.SYNC_RESOURCES.map((r) => r.id))
  for (const cluster of p.CLUSTERS ?? []) for (const r of cluster.resources ?? []) synced.add(r.id)
  return p.HISTORY_RESOURCES.filter((r) => !synced.has(r.id)).map(
    (r) =>
      `HISTORY_RESOURCES names ${r.id}, which is not synced: add it to SYNC_RESOURCES (or a registry cluster's resources) or remove it`,
  )
}

function fleetConfig(p: ParsedVariables): Config['fleet'] {
  return {
    clusters: p.CLUSTERS,
    clustersSecretId: p.CLUSTERS_SECRET_ID,
    discovery: p.EKS_DISCOVERY_TAG
      ? {
          tag: p.EKS_DISCOVERY_TAG,
          regions: p.EKS_DISCOVERY_REGIONS,
          nameTag: p.EKS_DISCOVERY_NAME_TAG,
        }
      : undefined,
    fanout: p.FANOUT,
    reconcileQueueUrl: p.RECONCILE_QUEUE_URL,
    watchQueueUrl: p.WATCH_QUEUE_URL,
    watchClustersPerWorker: p.WATCH_CLUSTERS_PER_WORKER,
    reconcileTaskMaxAgeSeconds: p.RECONCILE_TASK_MAX_AGE_SECONDS,
    watchTaskMaxAgeSeconds: p.WATCH_TASK_MAX_AGE_SECONDS,
    workerRetryDelaySeconds: p.WORKER_RETRY_DELAY_SECONDS,
  }
}

function k8sConfig(p: ParsedVariables): Config['k8s'] {
  return {
    kubeconfigPath: p.KUBECONFIG,
    kubeconfigSecretId: p.KUBECONFIG_SECRET_ID,
    eksClusterName: p.EKS_CLUSTER_NAME,
    requestTimeoutMs: p.K8S_REQUEST_TIMEOUT_MS,
    watchTimeoutMs: p.K8S_WATCH_TIMEOUT_MS,
    listPageSize: p.K8S_LIST_PAGE_SIZE,
    listPageMaxBytes: p.K8S_LIST_PAGE_MAX_BYTES,
    listPageMinSize: p.K8S_LIST_PAGE_MIN_SIZE,
    watchLineMaxBytes: p.K8S_WATCH_LINE_MAX_BYTES,
  }
}

function featuresConfig(p: ParsedVariables): Config['features'] {
  return {
    k8sWatchReconnect: p.ENABLE_K8S_WATCH_RECONNECT,
    mongoReconnect: p.ENABLE_MONGO_RECONNECT,
    chunkedBulkWrite: p.ENABLE_CHUNKED_BULK_WRITE,
    circuitBreaker: p.ENABLE_CIRCUIT_BREAKER,
    adaptivePacing: p.ENABLE_ADAPTIVE_PACING,
  }
}

function mongodbConfig(p: ParsedVariables): Config['mongodb'] {
  return {
    uri: p.MONGODB_URI,
    secretId: p.MONGODB_SECRET_ID,
    db: p.MONGODB_DB,
    connectTimeoutMs: p.MONGODB_TIMEOUT_MS,
    socketTimeoutMs: p.MONGODB_SOCKET_TIMEOUT_MS,
    serverSelectionTimeoutMs: p.MONGODB_SERVER_SELECTION_TIMEOUT_MS,
    poolMax: p.MONGO_POOL_MAX,
    poolMin: p.MONGO_POOL_MIN,
  }
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child)
    Object.freeze(value)
  }
  return value
}

let current: Config | undefined

/** The process-wide configuration, read once (process env over `.env` over defaults). */
export function getConfig(): Config {
  current ??= loadConfig(withDotEnv(process.env))
  return current
}

/** Every variable name the tool reads (for docs and checks). */
export const variableNames = Object.keys(variables) as VariableName[]
