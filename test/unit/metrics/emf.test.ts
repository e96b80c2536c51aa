import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { publishInvocationMetrics } from '../../../lib/metrics/emf.js'
import { Breakers } from '../../../lib/resilience/circuit-breaker.js'

interface Emf {
  _aws: {
    CloudWatchMetrics: Array<{
      Namespace: string
      Dimensions: string[][]
      Metrics: Array<{ Name: string; Unit: string }>
    }>
  }
  [key: string]: unknown
}

function captureStdout() {
  const lines: string[] = []
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: unknown) => {
    lines.push(String(chunk))
    return true
  })
  return {
    emf: (): Emf[] =>
      lines
        .join('')
        .split('\n')
        .filter((l) => l.includes('"_aws"'))
        .map((l) => JSON.parse(l) as Emf),
    restore: () => spy.mockRestore(),
  }
}

const freshBreakers = () =>
  new Breakers({
    features: { circuitBreaker: true },
    breaker: { failureThreshold: 10, halfOpenAfterMs: 30_000 },
  })

describe('EMF publication', () => {
  beforeEach(() => {
    vi.stubEnv('POWERTOOLS_METRICS_NAMESPACE', 'TestNs')
    vi.stubEnv('POWERTOOLS_SERVICE_NAME', 'kube-mongo-sync')
    vi.stubEnv('POWERTOOLS_DEV', '')
  })
  afterEach(() => {
    vi.unstubAllEnvs()
  })

  it('writes one line per resource with dimensions service, cluster, resource and one per cluster', () => {
    const out = captureStdout()
    try {
      publishInvocationMetrics(
        {
          resources: [
            {
              resource: 'v1/pods',
              status: 'complete',
              lastCompleteSyncAt: new Date().toISOString(),
              values: [
                { name: 'ObjectsInserted', unit: 'Count', value: 7 },
                { name: 'SyncDurationMs', unit: 'Milliseconds', value: 120 },
              ],
            },
          ],
        },
        'prod-eu',
        freshBreakers(),
      )
    } finally {
      out.restore()
    }
    const [resource, cluster] = out.emf()
    expect(resource?._aws.CloudWatchMetrics[0]).toMatchObject({
      Namespace: 'TestNs',
      Dimensions: [expect.arrayContaining(['service', 'cluster', 'resource'])],
    })
    expect(resource).toMatchObject({
      service: 'kube-mongo-sync',
      cluster: 'prod-eu',
      resource: 'v1/pods',
      ObjectsInserted: 7,
      SyncDurationMs: 120,
    })
    expect(cluster?._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([
      expect.arrayContaining(['service', 'cluster']),
    ])
    expect(cluster?._aws.CloudWatchMetrics[0]?.Dimensions[0]).toHaveLength(2)
    expect(cluster).toMatchObject({ BreakerOpens: 0, OldestCompleteSyncAgeSeconds: 0 })
  })

  it('still publishes the cluster line when the invocation failed before any report', () => {
    const out = captureStdout()
    try {
      publishInvocationMetrics(undefined, 'prod-eu', freshBreakers())
    } finally {
      out.restore()
    }
    expect(out.emf()).toHaveLength(1)
    expect(out.emf()[0]).toMatchObject({ cluster: 'prod-eu', BreakerOpens: 0 })
  })
})
