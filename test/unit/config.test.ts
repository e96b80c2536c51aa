import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadConfig, withDotEnv } from '../../lib/config.js'
import { ConfigError } from '../../lib/errors.js'

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env)
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems]
    throw error
  }
  return []
}

describe('loadConfig', () => {
  it('applies every default of the fault-tolerance spec', () => {
    const c = loadConfig({})
    expect(c.retry).toEqual({
      maxAttempts: 5,
      initialDelayMs: 1000,
      maxDelayMs: 30000,
      backoffMultiplier: 2,
    })
    expect(c.mongodb).toMatchObject({
      connectTimeoutMs: 30000,
      socketTimeoutMs: 45000,
      serverSelectionTimeoutMs: 30000,
      poolMax: 10,
      poolMin: 2,
      db: 'kube_inventory',
      uri: undefined,
      secretId: undefined,
    })
    expect(c.k8s).toMatchObject({
      requestTimeoutMs: 30000,
      watchTimeoutMs: 60000,
      listPageSize: 500,
      listPageMaxBytes: 32 * 1024 * 1024,
      listPageMinSize: 1,
      watchLineMaxBytes: 8 * 1024 * 1024,
    })
    expect(c.bulkWrite).toEqual({ batchSize: 100, maxConcurrent: 3, batchDelayMs: 100 })
    expect(c.features).toEqual({
      k8sWatchReconnect: true,
      mongoReconnect: true,
      chunkedBulkWrite: true,
      circuitBreaker: true,
      adaptivePacing: true,
    })
    expect(c.breaker).toEqual({ failureThreshold: 10, halfOpenAfterMs: 30000 })
    expect(c.pacing).toEqual({ latencyTargetMs: 5000, maxDelayMs: 2000 })
    expect(c.clusterName).toBe('default')
    expect(c.watchWindowSeconds).toBe(50)
    expect(c.secrets).toEqual({
      mode: 'metadata',
      hashKey: undefined,
      hashKeySecretId: undefined,
      annotationAllowlist: [
        'kubernetes.io/service-account.name',
        'kubernetes.io/service-account.uid',
        'meta.helm.sh/release-name',
        'meta.helm.sh/release-namespace',
      ],
    })
    expect(c.resources.map((r) => r.id)).toEqual([
      'v1/pods',
      'v1/configmaps',
      'v1/secrets',
      'v1/nodes',
      'apps/v1/deployments',
    ])
  })

  it('reads every variable it documents', () => {
    const c = loadConfig({
      RETRY_MAX_ATTEMPTS: '10',
      RETRY_INITIAL_DELAY_MS: '2000',
      RETRY_MAX_DELAY_MS: '60000',
      RETRY_BACKOFF_MULTIPLIER: '1.5',
      MONGODB_TIMEOUT_MS: '1',
      MONGODB_SOCKET_TIMEOUT_MS: '60000',
      MONGODB_SERVER_SELECTION_TIMEOUT_MS: '60000',
      K8S_REQUEST_TIMEOUT_MS: '5000',
      K8S_WATCH_TIMEOUT_MS: '120000',
      BULK_WRITE_BATCH_SIZE: '50',
      BULK_WRITE_MAX_CONCURRENT: '2',
      BULK_WRITE_BATCH_DELAY_MS: '500',
      ENABLE_K8S_WATCH_RECONNECT: 'false',
      ENABLE_MONGO_RECONNECT: 'FALSE',
      ENABLE_CHUNKED_BULK_WRITE: '0',
      MONGO_POOL_MAX: '20',
      MONGO_POOL_MIN: '5',
      MONGODB_URI: 'mongodb://u:p@127.0.0.1:27017/?directConnection=true',
      MONGODB_SECRET_ID: 'prod/mongo',
      MONGODB_DB: 'inv',
      KUBECONFIG: '/tmp/kc',
      KUBECONFIG_SECRET_ID: 'prod/kube',
      EKS_CLUSTER_NAME: 'prod-eu',
      CLUSTER_NAME: 'prod-eu-1',
      SYNC_RESOURCES: 'v1/pods, apps/v1/deployments,example.com/v1alpha1/widgets,v1/pods',
      K8S_LIST_PAGE_SIZE: '250',
      WATCH_WINDOW_SECONDS: '30',
      SECRET_MODE: 'HMAC',
      SECRET_ANNOTATION_ALLOWLIST: 'example.com/owner, team',
      SYNC_SECRET_DATA: 'false',
      SECRET_HASH_KEY: 'a-key-of-sixteen-chars',
      SECRET_HASH_KEY_SECRET_ID: 'prod/hash',
      RUN_BUDGET_MS: '60000',
      ENABLE_CIRCUIT_BREAKER: 'false',
      BREAKER_FAILURE_THRESHOLD: '3',
      BREAKER_HALF_OPEN_AFTER_MS: '1500',
      ENABLE_ADAPTIVE_PACING: 'false',
      PACING_LATENCY_TARGET_MS: '800',
      PACING_MAX_DELAY_MS: '2000',
    })
    expect(c.retry).toEqual({
      maxAttempts: 10,
      initialDelayMs: 2000,
      maxDelayMs: 60000,
      backoffMultiplier: 1.5,
    })
    expect(c.features).toEqual({
      k8sWatchReconnect: false,
      mongoReconnect: false,
      chunkedBulkWrite: false,
      circuitBreaker: false,
      adaptivePacing: false,
    })
    expect(c.breaker).toEqual({ failureThreshold: 3, halfOpenAfterMs: 1500 })
    expect(c.pacing).toEqual({ latencyTargetMs: 800, maxDelayMs: 2000 })
    expect(c.mongodb).toMatchObject({ poolMax: 20, poolMin: 5, db: 'inv', secretId: 'prod/mongo' })
    expect(c.k8s).toMatchObject({
      kubeconfigPath: '/tmp/kc',
      kubeconfigSecretId: 'prod/kube',
      eksClusterName: 'prod-eu',
      requestTimeoutMs: 5000,
      watchTimeoutMs: 120000,
      listPageSize: 250,
    })
    expect(c.resources.map((r) => r.id)).toEqual([
      'v1/pods',
      'apps/v1/deployments',
      'example.com/v1alpha1/widgets',
    ])
    expect(c.resources[2]).toMatchObject({
      group: 'example.com',
      version: 'v1alpha1',
      plural: 'widgets',
    })
    expect(c.secrets).toEqual({
      mode: 'hmac',
      hashKey: 'a-key-of-sixteen-chars',
      hashKeySecretId: 'prod/hash',
      annotationAllowlist: ['example.com/owner', 'team'],
    })
    expect(c.watchWindowSeconds).toBe(30)
    expect(c.runBudgetMs).toBe(60000)
  })

  it('returns a frozen object, all the way down', () => {
    const c = loadConfig({})
    expect(Object.isFrozen(c)).toBe(true)
    expect(Object.isFrozen(c.retry)).toBe(true)
    expect(Object.isFrozen(c.resources[0])).toBe(true)
  })

  it('treats an empty value as unset, so optional parameters can be passed through empty', () => {
    const c = loadConfig({ MONGODB_SECRET_ID: '', RETRY_MAX_ATTEMPTS: '  ' })
    expect(c.mongodb.secretId).toBeUndefined()
    expect(c.retry.maxAttempts).toBe(5)
  })

  it.each([
    ['RETRY_MAX_ATTEMPTS', 'abc'],
    ['RETRY_MAX_ATTEMPTS', '0'],
    ['RETRY_MAX_ATTEMPTS', '2.5'],
    ['RETRY_INITIAL_DELAY_MS', '-1'],
    ['RETRY_BACKOFF_MULTIPLIER', '0.5'],
    ['BULK_WRITE_BATCH_SIZE', '0'],
    ['BULK_WRITE_MAX_CONCURRENT', 'many'],
    ['ENABLE_MONGO_RECONNECT', 'maybe'],
    ['ENABLE_CHUNKED_BULK_WRITE', 'yes please'],
    ['SYNC_RESOURCES', 'pods'],
    ['SYNC_RESOURCES', 'apps/v1/deployments,core/pods/x/y'],
    ['SYNC_RESOURCES', 'Apps/v1/Deployments'],
    ['SYNC_RESOURCES', ','],
    ['K8S_LIST_PAGE_SIZE', '0'],
    ['WATCH_WINDOW_SECONDS', '5m'],
    ['CLUSTER_NAME', 'a/b'],
    ['MONGODB_DB', 'my.db'],
    ['MONGO_POOL_MAX', '0'],
  ])(
    'rejects %s=%s with one line naming the variable, the value and what is allowed',
    (name, value) => {
      const problems = problemsOf({ [name]: value })
      expect(problems).toHaveLength(1)
      expect(problems[0]).toContain(`${name}=${JSON.stringify(value)}`)
      expect(problems[0]).toMatch(/expected .+/)
    },
  )

  it('reports every problem at once, not one per run', () => {
    const problems = problemsOf({
      RETRY_MAX_ATTEMPTS: 'abc',
      BULK_WRITE_BATCH_SIZE: '0',
      ENABLE_MONGO_RECONNECT: 'maybe',
      SYNC_RESOURCES: 'pods',
    })
    expect(problems.map((p) => p.split('=')[0])).toEqual([
      'RETRY_MAX_ATTEMPTS',
      'BULK_WRITE_BATCH_SIZE',
      'ENABLE_MONGO_RECONNECT',
      'SYNC_RESOURCES',
    ])
  })

  it('names the offending entry of SYNC_RESOURCES', () => {
    expect(problemsOf({ SYNC_RESOURCES: 'v1/pods,deployments' })[0]).toContain(
      'entry "deployments"',
    )
  })

  it('refuses more than 100 resources in SYNC_RESOURCES, counted after merging repeats', () => {
    const resources = (n: number) => Array.from({ length: n }, (_, i) => `v1/r${i}`)

    expect(problemsOf({ SYNC_RESOURCES: resources(101).join(',') })[0]).toContain(
      '101 resources listed, at most 100',
    )
    expect(
      loadConfig({ SYNC_RESOURCES: [...resources(100), 'v1/r0'].join(',') }).resources,
    ).toHaveLength(100)
  })

  it('rejects a pool minimum above the maximum', () => {
    expect(problemsOf({ MONGO_POOL_MIN: '20', MONGO_POOL_MAX: '10' })[0]).toMatch(
      /^MONGO_POOL_MIN=20 .*MONGO_POOL_MAX=10/,
    )
  })

  it('keeps a lease for a minute, renewed every 20 s, unless told otherwise', () => {
    expect(loadConfig({}).lease).toEqual({ ttlMs: 60000, renewIntervalMs: 20000 })
    expect(loadConfig({ LEASE_TTL_MS: '3000', LEASE_RENEW_INTERVAL_MS: '1000' }).lease).toEqual({
      ttlMs: 3000,
      renewIntervalMs: 1000,
    })
  })

  it('rejects a lease renewed no sooner than it expires', () => {
    expect(problemsOf({ LEASE_TTL_MS: '20000' })[0]).toMatch(
      /^LEASE_RENEW_INTERVAL_MS=20000 .*below LEASE_TTL_MS.*LEASE_TTL_MS=20000/,
    )
    expect(problemsOf({ LEASE_TTL_MS: '20001' })).toEqual([])
  })

  it('keeps Secrets metadata only unless SECRET_MODE says otherwise', () => {
    expect(loadConfig({}).secrets.mode).toBe('metadata')
    for (const mode of ['metadata', 'redacted', 'plain'] as const) {
      expect(loadConfig({ SECRET_MODE: mode }).secrets.mode).toBe(mode)
    }
    expect(loadConfig({ SECRET_MODE: 'hmac', SECRET_HASH_KEY_SECRET_ID: 'h' }).secrets.mode).toBe(
      'hmac',
    )
    expect(problemsOf({ SECRET_MODE: 'values' })[0]).toMatch(
      /^SECRET_MODE="values" is invalid: expected metadata, redacted, hmac or plain/,
    )
  })

  it('reads the old Secret variables as the modes they meant', () => {
    expect(loadConfig({ SYNC_SECRET_DATA: 'true' }).secrets.mode).toBe('plain')
    expect(loadConfig({ SYNC_SECRET_DATA: 'false' }).secrets.mode).toBe('metadata')
    expect(loadConfig({ SECRET_HASH_KEY: 'a-key-of-sixteen-chars' }).secrets.mode).toBe('hmac')
    expect(loadConfig({ SECRET_HASH_KEY_SECRET_ID: 'prod/hash' }).secrets.mode).toBe('hmac')
    // As before SECRET_MODE: storing the values won over hashing them.
    expect(
      loadConfig({ SYNC_SECRET_DATA: 'true', SECRET_HASH_KEY: 'a-key-of-sixteen-chars' }).secrets
        .mode,
    ).toBe('plain')
    expect(loadConfig({ SYNC_SECRET_DATA: 'true', SECRET_MODE: 'plain' }).secrets.mode).toBe(
      'plain',
    )
  })

  it('refuses Secret settings that say two things, naming the replacement', () => {
    expect(problemsOf({ SECRET_MODE: 'metadata', SYNC_SECRET_DATA: 'true' })).toEqual([
      'SYNC_SECRET_DATA=true is invalid: expected it unset with SECRET_MODE=metadata (SYNC_SECRET_DATA=true is the old name of SECRET_MODE=plain)',
    ])
    expect(problemsOf({ SECRET_MODE: 'hmac' })[0]).toMatch(
      /^SECRET_MODE=hmac is invalid: expected a key in SECRET_HASH_KEY_SECRET_ID/,
    )
    expect(problemsOf({ SECRET_MODE: 'redacted', SECRET_HASH_KEY_SECRET_ID: 'h' })[0]).toMatch(
      /^SECRET_MODE=redacted is invalid: expected hmac, or SECRET_HASH_KEY_SECRET_ID unset/,
    )
  })

  it('reads the Secret annotation allowlist, none keeping no value', () => {
    expect(loadConfig({ SECRET_ANNOTATION_ALLOWLIST: 'none' }).secrets.annotationAllowlist).toEqual(
      [],
    )
    expect(
      loadConfig({ SECRET_ANNOTATION_ALLOWLIST: 'a.example.com/x,y,,y' }).secrets
        .annotationAllowlist,
    ).toEqual(['a.example.com/x', 'y'])
    expect(problemsOf({ SECRET_ANNOTATION_ALLOWLIST: 'a b' })[0]).toMatch(
      /^SECRET_ANNOTATION_ALLOWLIST="a b" is invalid: .*\(entry "a b" is not an annotation key\)/,
    )
  })

  it('never echoes a secret value in an error', () => {
    const problems = problemsOf({
      MONGODB_URI: 'http://admin:hunter2-secret@db',
      SECRET_HASH_KEY: 'short',
    })
    expect(problems).toHaveLength(2)
    expect(problems.join('\n')).not.toContain('hunter2')
    expect(problems.join('\n')).not.toContain('short')
    expect(problems[0]).toContain('MONGODB_URI=<redacted>')
  })
})

describe('withDotEnv', () => {
  it('uses .env under the process environment and over the defaults', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kms-env-'))
    const file = join(dir, '.env')
    writeFileSync(
      file,
      'RETRY_MAX_ATTEMPTS=7\nBULK_WRITE_BATCH_SIZE=40\n# comment\nCLUSTER_NAME="from-file"\n',
    )
    const env = withDotEnv({ RETRY_MAX_ATTEMPTS: '3', BULK_WRITE_BATCH_SIZE: '' }, file)
    const c = loadConfig(env)
    expect(c.retry.maxAttempts).toBe(3)
    expect(c.bulkWrite.batchSize).toBe(40)
    expect(c.clusterName).toBe('from-file')
  })

  it('changes nothing when there is no .env file', () => {
    const env = { A: '1' }
    expect(withDotEnv(env, join(tmpdir(), 'does-not-exist', '.env'))).toBe(env)
  })
})
