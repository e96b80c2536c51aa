import * as z from 'zod'
import { MAX_RESOURCES } from './input-limits.js'
import { parseResourceRef, type ResourceRef } from './resource-ref.js'
import { parseRegistry, RegistryError, type ClusterEntry } from './fleet/registry-schema.js'
import { defaultSecretAnnotationAllowlist, secretModes } from './secret-policy.js'

/**
 * Every environment variable the tool reads, in one table: the parser, the
 * default and the sentence users see. docs/configuration.md's reference is
 * checked against this table by a unit test, so the two cannot drift.
 * It is longer than our other files on purpose: one entry per variable, read
 * as a table, and splitting it would separate a variable from its neighbours.
 */
export interface VariableSpec<T> {
  readonly name: string
  readonly description: string
  /** The default as a user would write it in the environment; undefined = unset. */
  readonly default?: string
  /** Never echo the value (errors, logs, `npm run config`). */
  readonly secret?: boolean
  readonly schema: z.ZodType<T>
  /** What a valid value looks like, for the one-line error. */
  readonly allowed: string
}

const int = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z
    .string()
    .regex(/^-?\d+$/)
    .transform(Number)
    .pipe(z.number().int().min(min).max(max))

const num = (min: number) =>
  z
    .string()
    .regex(/^-?\d+(\.\d+)?$/)
    .transform(Number)
    .pipe(z.number().min(min))

const fraction = z
  .string()
  .regex(/^\d+(\.\d+)?$/)
  .transform(Number)
  .pipe(z.number().min(0).max(1))

const bool = z
  .string()
  .transform((v) => v.trim().toLowerCase())
  .pipe(z.enum(['true', 'false', '1', '0']))
  .transform((v) => v === 'true' || v === '1')

const text = z.string().min(1)

const clusterName = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/)

const mongoDbName = z.string().regex(/^[^/\\. "$*<>:|?]{1,63}$/)

const resourceList = z.string().transform((value, ctx): ResourceRef[] => {
  const refs: ResourceRef[] = []
  for (const entry of value.split(',').map((s) => s.trim())) {
    if (entry === '') continue
    const ref = parseResourceRef(entry)
    if (!ref) {
      ctx.addIssue({
        code: 'custom',
        message: `entry "${entry}" is not version/plural or group/version/plural`,
      })
      return z.NEVER
    }
    // Named twice: merged, so one task (and one lease) works it.
    if (!refs.some((r) => r.id === ref.id)) refs.push(ref)
  }
  if (refs.length === 0) {
    ctx.addIssue({ code: 'custom', message: 'no resource listed' })
    return z.NEVER
  }
  if (refs.length > MAX_RESOURCES) {
    ctx.addIssue({
      code: 'custom',
      message: `${refs.length} resources listed, at most ${MAX_RESOURCES}`,
    })
    return z.NEVER
  }
  return refs
})

// HISTORY_RESOURCES: empty means none; whether each is synced is checked in lib/config.ts.
const historyResourceList = z.string().transform((value, ctx): ResourceRef[] => {
  if (value.trim() === '') return []
  const parsed = resourceList.safeParse(value)
  if (parsed.success) return parsed.data
  const detail = parsed.error.issues.find((i) => i.code === 'custom')?.message
  ctx.addIssue({ code: 'custom', message: detail ?? 'not a resource list' })
  return z.NEVER
})

// An annotation key: an optional DNS-subdomain prefix and `/`, then a name of at most 63 characters.
const annotationKey =
  /^(?:[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/

const annotationKeyList = z.string().transform((value, ctx): string[] => {
  if (value.trim().toLowerCase() === 'none') return []
  const keys: string[] = []
  for (const entry of value.split(',').map((s) => s.trim())) {
    if (entry === '') continue
    if (!annotationKey.test(entry)) {
      ctx.addIssue({ code: 'custom', message: `entry "${entry}" is not an annotation key` })
      return z.NEVER
    }
    if (!keys.includes(entry)) keys.push(entry)
  }
  return keys
})

// CLUSTERS: every bad entry is named in the one error line (lib/fleet/registry-schema.ts).
const registry = z.string().transform((value, ctx): ClusterEntry[] => {
  try {
    return parseRegistry(value, 'CLUSTERS')
  } catch (error) {
    if (!(error instanceof RegistryError)) throw error
    ctx.addIssue({ code: 'custom', message: error.problems.join('; ') })
    return z.NEVER
  }
})

const awsRegion = /^[a-z]{2}(-[a-z]+)+-\d$/

const regionList = z.string().transform((value, ctx): string[] => {
  const regions = [
    ...new Set(
      value
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== ''),
    ),
  ]
  const bad = regions.find((r) => !awsRegion.test(r))
  if (bad !== undefined || regions.length === 0) {
    ctx.addIssue({ code: 'custom', message: bad ? `"${bad}" is not a region` : 'no region listed' })
    return z.NEVER
  }
  return regions
})

const tagFilter = z
  .string()
  .regex(/^[^=]{1,128}=[^=]{0,256}$/)
  .transform((value) => {
    const at = value.indexOf('=')
    return { key: value.slice(0, at).trim(), value: value.slice(at + 1).trim() }
  })

const ms = 'an integer number of milliseconds'

function v<T, D extends string | undefined = undefined>(
  spec: VariableSpec<T> & { default?: D },
): VariableSpec<T> & { default: D } {
  return spec as VariableSpec<T> & { default: D }
}

export const variables = {
  // --- the fault-tolerance spec ---
  RETRY_MAX_ATTEMPTS: v({
    name: 'RETRY_MAX_ATTEMPTS',
    description:
      'Attempts per operation (first try included) before giving up with the last error.',
    default: '5',
    schema: int(1, 100),
    allowed: 'an integer from 1 to 100',
  }),
  RETRY_INITIAL_DELAY_MS: v({
    name: 'RETRY_INITIAL_DELAY_MS',
    description:
      'Delay before the first retry; each later delay is multiplied by RETRY_BACKOFF_MULTIPLIER.',
    default: '1000',
    schema: int(0),
    allowed: `${ms} >= 0`,
  }),
  RETRY_MAX_DELAY_MS: v({
    name: 'RETRY_MAX_DELAY_MS',
    description: 'Cap on any single retry delay, jitter included.',
    default: '30000',
    schema: int(0),
    allowed: `${ms} >= 0`,
  }),
  RETRY_BACKOFF_MULTIPLIER: v({
    name: 'RETRY_BACKOFF_MULTIPLIER',
    description: 'Growth factor of the delay between attempts (exponential backoff).',
    default: '2.0',
    schema: num(1),
    allowed: 'a number >= 1',
  }),
  MONGODB_TIMEOUT_MS: v({
    name: 'MONGODB_TIMEOUT_MS',
    description: 'MongoDB connect timeout (driver connectTimeoutMS).',
    default: '30000',
    schema: int(1),
    allowed: `${ms} >= 1`,
  }),
  MONGODB_SOCKET_TIMEOUT_MS: v({
    name: 'MONGODB_SOCKET_TIMEOUT_MS',
    description: 'MongoDB socket inactivity timeout (driver socketTimeoutMS).',
    default: '45000',
    schema: int(0),
    allowed: `${ms} >= 0 (0 = none)`,
  }),
  MONGODB_SERVER_SELECTION_TIMEOUT_MS: v({
    name: 'MONGODB_SERVER_SELECTION_TIMEOUT_MS',
    description: 'How long the driver waits for a usable server before an operation fails.',
    default: '30000',
    schema: int(1),
    allowed: `${ms} >= 1`,
  }),
  K8S_REQUEST_TIMEOUT_MS: v({
    name: 'K8S_REQUEST_TIMEOUT_MS',
    description: 'Timeout of one Kubernetes API request (a list page, a discovery call).',
    default: '30000',
    schema: int(1),
    allowed: `${ms} >= 1`,
  }),
  K8S_WATCH_TIMEOUT_MS: v({
    name: 'K8S_WATCH_TIMEOUT_MS',
    description:
      'Longest a single watch request may stay open; the watch window may end it sooner.',
    default: '60000',
    schema: int(1),
    allowed: `${ms} >= 1`,
  }),
  BULK_WRITE_BATCH_SIZE: v({
    name: 'BULK_WRITE_BATCH_SIZE',
    description: 'Operations per bulk-write chunk.',
    default: '100',
    schema: int(1, 100_000),
    allowed: 'an integer from 1 to 100000',
  }),
  BULK_WRITE_MAX_CONCURRENT: v({
    name: 'BULK_WRITE_MAX_CONCURRENT',
    description: 'Bulk-write chunks in flight at once.',
    default: '3',
    schema: int(1, 64),
    allowed: 'an integer from 1 to 64',
  }),
  BULK_WRITE_BATCH_DELAY_MS: v({
    name: 'BULK_WRITE_BATCH_DELAY_MS',
    description: 'Pause between chunks, so a large sync does not overwhelm MongoDB.',
    default: '100',
    schema: int(0),
    allowed: `${ms} >= 0`,
  }),
  ENABLE_K8S_WATCH_RECONNECT: v({
    name: 'ENABLE_K8S_WATCH_RECONNECT',
    description: 'Reconnect a watch that fails mid-window (from the last applied resourceVersion).',
    default: 'true',
    schema: bool,
    allowed: 'true or false',
  }),
  ENABLE_MONGO_RECONNECT: v({
    name: 'ENABLE_MONGO_RECONNECT',
    description: 'Reconnect to MongoDB after a lost connection instead of failing the invocation.',
    default: 'true',
    schema: bool,
    allowed: 'true or false',
  }),
  ENABLE_CHUNKED_BULK_WRITE: v({
    name: 'ENABLE_CHUNKED_BULK_WRITE',
    description:
      'Split bulk writes into chunks of BULK_WRITE_BATCH_SIZE (false: one bulk write, still retried).',
    default: 'true',
    schema: bool,
    allowed: 'true or false',
  }),
  MONGO_POOL_MAX: v({
    name: 'MONGO_POOL_MAX',
    description: 'Largest MongoDB connection pool per container.',
    default: '10',
    schema: int(1, 1000),
    allowed: 'an integer from 1 to 1000',
  }),
  MONGO_POOL_MIN: v({
    name: 'MONGO_POOL_MIN',
    description: 'Connections the pool keeps open; must not exceed MONGO_POOL_MAX.',
    default: '2',
    schema: int(0, 1000),
    allowed: 'an integer from 0 to 1000, at most MONGO_POOL_MAX',
  }),
  // --- added by the serverless design ---
  MONGODB_URI: v({
    name: 'MONGODB_URI',
    description: 'MongoDB connection string (used when MONGODB_SECRET_ID is not set).',
    secret: true,
    schema: z.string().regex(/^mongodb(\+srv)?:\/\/\S+$/),
    allowed: 'a mongodb:// or mongodb+srv:// connection string',
  }),
  MONGODB_SECRET_ID: v({
    name: 'MONGODB_SECRET_ID',
    description:
      'Secrets Manager id/ARN holding the connection string (JSON {"uri": ...} or plain); wins over MONGODB_URI.',
    schema: text,
    allowed: 'a secret name or ARN',
  }),
  MONGODB_DB: v({
    name: 'MONGODB_DB',
    description: 'Database of the inventory.',
    default: 'kube_inventory',
    schema: mongoDbName,
    allowed: 'a MongoDB database name (1-63 characters, none of /\\. "$*<>:|?)',
  }),
  KUBECONFIG: v({
    name: 'KUBECONFIG',
    description:
      'Path of a kubeconfig file (local runs); used when neither KUBECONFIG_SECRET_ID nor EKS_CLUSTER_NAME is set.',
    schema: text,
    allowed: 'a file path',
  }),
  KUBECONFIG_SECRET_ID: v({
    name: 'KUBECONFIG_SECRET_ID',
    description:
      'Secrets Manager id/ARN holding a kubeconfig (YAML or JSON); first choice for credentials.',
    schema: text,
    allowed: 'a secret name or ARN',
  }),
  EKS_CLUSTER_NAME: v({
    name: 'EKS_CLUSTER_NAME',
    description:
      'EKS cluster to reach with the function role (IAM token); used when KUBECONFIG_SECRET_ID is not set.',
    schema: z.string().regex(/^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$/),
    allowed: 'an EKS cluster name',
  }),
  ALLOW_INSECURE_TLS: v({
    name: 'ALLOW_INSECURE_TLS',
    description:
      'Accept plain text or unverified TLS: an http:// API server or insecure-skip-tls-verify, a MongoDB URI with tls=false, tlsInsecure, tlsAllowInvalidCertificates or tlsAllowInvalidHostnames, or a mongodb:// URI without tls=true to a host that is not loopback. Each is logged as a warning (docs/security.md#transport).',
    default: 'false',
    schema: bool,
    allowed: 'true or false',
  }),
  CLUSTER_NAME: v({
    name: 'CLUSTER_NAME',
    description: 'Name of the cluster in the inventory (`cluster` field and `_id` prefix).',
    default: 'default',
    schema: clusterName,
    allowed: 'letters, digits, ".", "_" or "-" (at most 63, no "/")',
  }),
  SYNC_RESOURCES: v({
    name: 'SYNC_RESOURCES',
    description:
      'Comma list of resources to sync, as version/plural (core) or group/version/plural.',
    default: 'v1/pods,v1/configmaps,v1/secrets,v1/nodes,apps/v1/deployments',
    schema: resourceList,
    allowed: `a comma list of at most ${MAX_RESOURCES} version/plural or group/version/plural, e.g. v1/pods,apps/v1/deployments`,
  }),
  K8S_LIST_PAGE_SIZE: v({
    name: 'K8S_LIST_PAGE_SIZE',
    description: 'Objects per list page (`limit`); memory grows with it, not with the cluster.',
    default: '500',
    schema: int(1, 10_000),
    allowed: 'an integer from 1 to 10000',
  }),
  K8S_LIST_PAGE_MAX_BYTES: v({
    name: 'K8S_LIST_PAGE_MAX_BYTES',
    description:
      'Most bytes one list page may take as served (decompressed); a page over it is asked again with half the `limit`. Two pages are in memory at once, each several times its bytes.',
    default: String(32 * 1024 * 1024),
    schema: int(1024),
    allowed: 'an integer number of bytes >= 1024',
  }),
  K8S_LIST_PAGE_MIN_SIZE: v({
    name: 'K8S_LIST_PAGE_MIN_SIZE',
    description:
      'Smallest `limit` the halving after a page over K8S_LIST_PAGE_MAX_BYTES goes down to; a page still over it fails the resource.',
    default: '1',
    schema: int(1, 10_000),
    allowed: 'an integer from 1 to 10000',
  }),
  K8S_WATCH_LINE_MAX_BYTES: v({
    name: 'K8S_WATCH_LINE_MAX_BYTES',
    description:
      'Most bytes one watch event (one line of the stream) may take; a longer one fails the watch window.',
    default: String(8 * 1024 * 1024),
    schema: int(1024),
    allowed: 'an integer number of bytes >= 1024',
  }),
  WATCH_WINDOW_SECONDS: v({
    name: 'WATCH_WINDOW_SECONDS',
    description: 'Length of one watch replay window; it also ends before the Lambda deadline.',
    default: '50',
    schema: int(1, 900),
    allowed: 'an integer number of seconds from 1 to 900',
  }),
  SECRET_MODE: v({
    name: 'SECRET_MODE',
    description:
      'What is kept of a Secret (docs/security.md#what-is-stored): `metadata` (no value leaves the API server), `redacted`, `hmac` or `plain`. Unset: `hmac` with a hash key, `plain` with SYNC_SECRET_DATA=true, else `metadata`.',
    schema: z
      .string()
      .transform((value) => value.trim().toLowerCase())
      .pipe(z.enum(secretModes)),
    allowed: 'metadata, redacted, hmac or plain',
  }),
  SECRET_ANNOTATION_ALLOWLIST: v({
    name: 'SECRET_ANNOTATION_ALLOWLIST',
    description:
      "Annotations whose values a stored Secret keeps; every other annotation's value becomes `<redacted>` (SECRET_MODE=plain keeps all). `none`: no value kept.",
    default: defaultSecretAnnotationAllowlist.join(','),
    schema: annotationKeyList,
    allowed: 'a comma list of annotation keys (prefix/name), or none',
  }),
  SYNC_SECRET_DATA: v({
    name: 'SYNC_SECRET_DATA',
    description:
      'Deprecated alias: `true` is SECRET_MODE=plain (refused together with another SECRET_MODE); `false` changes nothing.',
    schema: bool,
    allowed: 'true or false',
  }),
  SECRET_HASH_KEY: v({
    name: 'SECRET_HASH_KEY',
    description:
      'Key for hmac-sha256 of Secret values (SECRET_MODE=hmac), so changes and shared values stay visible.',
    secret: true,
    schema: z.string().min(16),
    allowed: 'a string of at least 16 characters',
  }),
  SECRET_HASH_KEY_SECRET_ID: v({
    name: 'SECRET_HASH_KEY_SECRET_ID',
    description: 'Secrets Manager id/ARN holding SECRET_HASH_KEY (wins over SECRET_HASH_KEY).',
    schema: text,
    allowed: 'a secret name or ARN',
  }),
  RUN_BUDGET_MS: v({
    name: 'RUN_BUDGET_MS',
    description:
      'Time budget of a run outside Lambda (inside Lambda the remaining time of the invocation is used).',
    default: '840000',
    schema: int(1000),
    allowed: `${ms} >= 1000`,
  }),
  // --- leases: one writer per (cluster, resource) ---
  LEASE_TTL_MS: v({
    name: 'LEASE_TTL_MS',
    description:
      "How long a resource's lease lasts unless renewed: the longest a crashed run keeps its resources from other runs.",
    default: '60000',
    schema: int(1000),
    allowed: `${ms} >= 1000`,
  }),
  LEASE_RENEW_INTERVAL_MS: v({
    name: 'LEASE_RENEW_INTERVAL_MS',
    description:
      'How often a running invocation renews its leases; below LEASE_TTL_MS (a third of it leaves two more tries before the lease runs out).',
    default: '20000',
    schema: int(100),
    allowed: `${ms} >= 100, below LEASE_TTL_MS`,
  }),
  // --- operability: circuit breakers and adaptive pacing ---
  ENABLE_CIRCUIT_BREAKER: v({
    name: 'ENABLE_CIRCUIT_BREAKER',
    description:
      'Stop calling the API server or MongoDB for a cool-off period after consecutive failures.',
    default: 'true',
    schema: bool,
    allowed: 'true or false',
  }),
  BREAKER_FAILURE_THRESHOLD: v({
    name: 'BREAKER_FAILURE_THRESHOLD',
    description: 'Consecutive transient failures (all resources together) that open a breaker.',
    default: '10',
    schema: int(1, 1000),
    allowed: 'an integer from 1 to 1000',
  }),
  BREAKER_HALF_OPEN_AFTER_MS: v({
    name: 'BREAKER_HALF_OPEN_AFTER_MS',
    description: 'Cool-off of an open breaker before one probe call is let through.',
    default: '30000',
    schema: int(100),
    allowed: `${ms} >= 100`,
  }),
  ENABLE_ADAPTIVE_PACING: v({
    name: 'ENABLE_ADAPTIVE_PACING',
    description:
      'Fewer concurrent chunks and longer delays while MongoDB is slow or failing, within the BULK_WRITE_* bounds.',
    default: 'true',
    schema: bool,
    allowed: 'true or false',
  }),
  PACING_LATENCY_TARGET_MS: v({
    name: 'PACING_LATENCY_TARGET_MS',
    description: 'A chunk write slower than this counts as MongoDB under pressure.',
    default: '5000',
    schema: int(1),
    allowed: `${ms} >= 1`,
  }),
  PACING_MAX_DELAY_MS: v({
    name: 'PACING_MAX_DELAY_MS',
    description: 'The longest delay between chunk starts that pacing may slow down to.',
    default: '2000',
    schema: int(0),
    allowed: `${ms} >= 0`,
  }),
  // --- the health function (issue 10) ---
  HEALTH_MAX_SYNC_AGE_SECONDS: v({
    name: 'HEALTH_MAX_SYNC_AGE_SECONDS',
    description:
      'Health: a resource whose last complete sync is older is stale (default: two 15-minute schedules).',
    default: '1800',
    schema: int(1),
    allowed: 'an integer number of seconds >= 1',
  }),
  HEALTH_MAX_WATCH_AGE_SECONDS: v({
    name: 'HEALTH_MAX_WATCH_AGE_SECONDS',
    description:
      'Health: a resource whose last watch window is older is stale (0: the watch is not checked).',
    default: '180',
    schema: int(0),
    allowed: 'an integer number of seconds >= 0',
  }),
  HEALTH_MONGODB_TIMEOUT_MS: v({
    name: 'HEALTH_MONGODB_TIMEOUT_MS',
    description:
      'Health: connect, server-selection and socket timeout of its MongoDB check (a quick 503 when down).',
    default: '3000',
    schema: int(1),
    allowed: `${ms} >= 1`,
  }),
  // --- the mass-delete guard (docs/operations.md#deletes-held) ---
  MASS_DELETE_MAX_FRACTION: v({
    name: 'MASS_DELETE_MAX_FRACTION',
    description:
      "Largest fraction of a resource's stored documents one reconcile deletes unconfirmed; 1 disables the guard.",
    default: '0.5',
    schema: fraction,
    allowed: 'a number from 0 to 1',
  }),
  MASS_DELETE_MIN_STORED: v({
    name: 'MASS_DELETE_MIN_STORED',
    description:
      'The mass-delete guard applies only from this many stored documents of a resource.',
    default: '100',
    schema: int(0),
    allowed: 'an integer >= 0',
  }),
  // --- bookkeeping expiry (docs/design.md#bookkeeping-collections) ---
  TOMBSTONE_TTL_DAYS: v({
    name: 'TOMBSTONE_TTL_DAYS',
    description:
      'Days a tombstone is kept after the delete it records, at most (a complete list prunes it sooner); a TTL index on MongoDB.',
    default: '7',
    schema: int(1, 3650),
    allowed: 'an integer from 1 to 3650',
  }),
  DEAD_LETTER_TTL_DAYS: v({
    name: 'DEAD_LETTER_TTL_DAYS',
    description:
      'Days a dead letter is kept after its last failure (every retry renews it); a TTL index on MongoDB.',
    default: '14',
    schema: int(1, 3650),
    allowed: 'an integer from 1 to 3650',
  }),
  // --- object history (docs/history.md, lib/store/history/) ---
  HISTORY_RESOURCES: v({
    name: 'HISTORY_RESOURCES',
    description:
      "Comma list of synced resources whose every observed version is kept in `object_history` (each one of SYNC_RESOURCES or of a registry cluster's resources). Empty: no history.",
    default: '',
    schema: historyResourceList,
    allowed: 'empty, or a comma list of synced resources, e.g. v1/configmaps,apps/v1/deployments',
  }),
  HISTORY_RETENTION_DAYS: v({
    name: 'HISTORY_RETENTION_DAYS',
    description:
      'Days a version is kept in `object_history` after it was observed (a TTL index on MongoDB, a sweep elsewhere); 0 keeps every version forever.',
    default: '30',
    schema: int(0, 36_500),
    allowed: 'an integer from 0 to 36500',
  }),
  // --- fleets (docs/fleets.md) ---
  CLUSTERS: v({
    name: 'CLUSTERS',
    description:
      'The fleet registry as inline JSON: an array of clusters, each with a `name` and one of `eksClusterName` (+ `region`, `roleArn`, `externalId`), `kubeconfigSecretId` (+ `context`) or `kubeconfigPath`, optionally `resources` and `namespaces` (docs/fleets.md#registry). Unset: one cluster, CLUSTER_NAME.',
    // Not echoed in errors: one line per bad entry says what is wrong instead.
    secret: true,
    schema: registry,
    allowed: 'a JSON array of valid cluster entries',
  }),
  CLUSTERS_SECRET_ID: v({
    name: 'CLUSTERS_SECRET_ID',
    description:
      'Secrets Manager id/ARN holding the fleet registry (the JSON of CLUSTERS); read at every planning run.',
    schema: text,
    allowed: 'a secret name or ARN',
  }),
  EKS_DISCOVERY_TAG: v({
    name: 'EKS_DISCOVERY_TAG',
    description:
      'Adds every EKS cluster carrying this tag (`key=value`) in EKS_DISCOVERY_REGIONS to the fleet, reached with the function role.',
    schema: tagFilter,
    allowed: 'key=value',
  }),
  EKS_DISCOVERY_REGIONS: v({
    name: 'EKS_DISCOVERY_REGIONS',
    description: 'Comma list of regions EKS discovery searches; unset: AWS_REGION.',
    schema: regionList,
    allowed: 'a comma list of AWS regions',
  }),
  EKS_DISCOVERY_NAME_TAG: v({
    name: 'EKS_DISCOVERY_NAME_TAG',
    description:
      'The tag whose value names a discovered cluster in the inventory; without it, the EKS name.',
    default: 'kube-mongo-sync/name',
    schema: z.string().min(1).max(128),
    allowed: 'a tag key',
  }),
  FANOUT: v({
    name: 'FANOUT',
    description:
      'Plan onto the work queues even with one cluster (with two or more, the schedule always plans).',
    default: 'false',
    schema: bool,
    allowed: 'true or false',
  }),
  RECONCILE_QUEUE_URL: v({
    name: 'RECONCILE_QUEUE_URL',
    description:
      'The work queue of reconcile tasks, one per (cluster, resource); set by serverless.yml.',
    schema: z.string().url(),
    allowed: 'an SQS queue URL',
  }),
  WATCH_QUEUE_URL: v({
    name: 'WATCH_QUEUE_URL',
    description: 'The work queue of watch tasks, one per group of clusters; set by serverless.yml.',
    schema: z.string().url(),
    allowed: 'an SQS queue URL',
  }),
  WATCH_CLUSTERS_PER_WORKER: v({
    name: 'WATCH_CLUSTERS_PER_WORKER',
    description:
      'Clusters one watch task carries; a watch worker runs their windows concurrently (watching is I/O-bound).',
    default: '10',
    schema: int(1, 100),
    allowed: 'an integer from 1 to 100',
  }),
  RECONCILE_TASK_MAX_AGE_SECONDS: v({
    name: 'RECONCILE_TASK_MAX_AGE_SECONDS',
    description:
      'A reconcile task planned longer ago than this is dropped (logged, counted): the next plan covers it. The reconcile schedule interval.',
    default: '900',
    schema: int(30, 86_400),
    allowed: 'an integer from 30 to 86400',
  }),
  WATCH_TASK_MAX_AGE_SECONDS: v({
    name: 'WATCH_TASK_MAX_AGE_SECONDS',
    description:
      'A watch task planned longer ago than this is dropped (logged, counted). The watch schedule interval.',
    default: '60',
    schema: int(10, 3_600),
    allowed: 'an integer from 10 to 3600',
  }),
  WORKER_RETRY_DELAY_SECONDS: v({
    name: 'WORKER_RETRY_DELAY_SECONDS',
    description:
      'A failed task comes back after this many seconds times its receive count (its third failure sends it to the dead-letter queue).',
    default: '30',
    schema: int(0, 3_600),
    allowed: 'an integer from 0 to 3600',
  }),
} as const

export type Variables = typeof variables
export type VariableName = keyof Variables
export type ParsedVariables = {
  [K in VariableName]: Variables[K]['default'] extends string
    ? z.output<Variables[K]['schema']>
    : z.output<Variables[K]['schema']> | undefined
}
