import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../../lib/config.js'
import { ConfigError } from '../../../lib/errors.js'
import { parseRegistry, RegistryError } from '../../../lib/fleet/registry-schema.js'

function problemsOf(text: string): readonly string[] {
  try {
    parseRegistry(text, 'CLUSTERS')
  } catch (error) {
    if (error instanceof RegistryError) return error.problems
    throw error
  }
  return []
}

describe('the cluster registry', () => {
  it('reads each credentials source, with resources and namespaces of its own', () => {
    const clusters = parseRegistry(
      JSON.stringify([
        { name: 'prod-eu', eksClusterName: 'prod', region: 'eu-west-1' },
        {
          name: 'payments',
          eksClusterName: 'payments-prod',
          roleArn: 'arn:aws:iam::222233334444:role/kms-reader',
          externalId: 'kms-7f3a',
        },
        {
          name: 'edge-1',
          kubeconfigSecretId: 'kms/edge-1',
          context: 'edge',
          resources: ['v1/pods', 'v1/pods'],
        },
        { name: 'local', kubeconfigPath: '/tmp/kc', namespaces: ['shop', 'shop'] },
      ]),
      'CLUSTERS',
    )
    expect(clusters.map((c) => c.name)).toEqual(['prod-eu', 'payments', 'edge-1', 'local'])
    expect(clusters[1]).toMatchObject({
      roleArn: 'arn:aws:iam::222233334444:role/kms-reader',
      externalId: 'kms-7f3a',
    })
    expect(clusters[2]!.resources!.map((r) => r.id)).toEqual(['v1/pods'])
    expect(clusters[3]!.namespaces).toEqual(['shop'])
  })

  it('names every bad entry in one error, by position and name', () => {
    const problems = problemsOf(
      JSON.stringify([
        { name: 'ok', kubeconfigPath: '/tmp/kc' },
        { name: 'Bad_Name', kubeconfigPath: '/tmp/kc' },
        { name: 'two', kubeconfigPath: '/tmp/kc', eksClusterName: 'x' },
        { name: 'none' },
        { name: 'ok', kubeconfigPath: '/tmp/kc' },
        { name: 'ext', eksClusterName: 'x', externalId: 'abc' },
        { name: 'typo', kubeconfigPath: '/tmp/kc', resource: ['v1/pods'] },
        { name: 'res', kubeconfigPath: '/tmp/kc', resources: ['pods'] },
      ]),
    )
    expect(problems).toHaveLength(7)
    expect(problems[0]).toMatch(/^entry 1 \("Bad_Name"\): "name": expected a DNS label/)
    expect(problems[1]).toMatch(/^entry 2 \("two"\): needs exactly one of/)
    expect(problems[2]).toMatch(/^entry 3 \("none"\): needs exactly one of/)
    expect(problems[3]).toBe('entry 4 ("ok"): the name is already used by entry 0')
    expect(problems[4]).toMatch(/^entry 5 \("ext"\): "externalId" needs "roleArn"/)
    expect(problems[5]).toMatch(/^entry 6 \("typo"\): unknown field\(s\) "resource"/)
    expect(problems[6]).toMatch(/^entry 7 \("res"\): "resources.0": expected version\/plural/)
  })

  it('refuses what is not a list of clusters', () => {
    expect(problemsOf('{"name":"a"}')).toEqual(['expected a JSON array of cluster entries'])
    expect(problemsOf('[')).toEqual(['not valid JSON (expected an array of cluster entries)'])
    expect(problemsOf('[]')).toEqual(['lists no cluster'])
  })

  it('stops start-up on a bad CLUSTERS, naming the entries and not echoing the value', () => {
    const env = {
      CLUSTERS: '[{"name":"a","kubeconfigPath":"/x"},{"name":"a","kubeconfigPath":"/y"}]',
    }
    let error: unknown
    try {
      loadConfig(env)
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(ConfigError)
    const [line] = (error as ConfigError).problems
    expect(line).toContain('CLUSTERS=<redacted> is invalid')
    expect(line).toContain('entry 1 ("a"): the name is already used by entry 0')
    expect(line).not.toContain('/y')
  })

  it('refuses CLUSTERS and CLUSTERS_SECRET_ID together, and discovery regions without a tag', () => {
    expect(() =>
      loadConfig({ CLUSTERS: '[{"name":"a","kubeconfigPath":"/x"}]', CLUSTERS_SECRET_ID: 'reg' }),
    ).toThrow('CLUSTERS and CLUSTERS_SECRET_ID are both set')
    expect(() => loadConfig({ EKS_DISCOVERY_REGIONS: 'eu-west-1' })).toThrow(
      'EKS_DISCOVERY_REGIONS is set without EKS_DISCOVERY_TAG',
    )
    expect(loadConfig({ EKS_DISCOVERY_TAG: 'team=platform' }).fleet.discovery).toEqual({
      tag: { key: 'team', value: 'platform' },
      regions: undefined,
      nameTag: 'kube-mongo-sync/name',
    })
  })
})
