import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../../lib/config.js'
import { loadFleet, selectClusters, type RegistryPorts } from '../../../lib/fleet/registry.js'

const noAws: RegistryPorts = {
  fetchSecret: () => Promise.reject(new Error('no secret expected')),
  discover: () => Promise.reject(new Error('no discovery expected')),
}

describe('loading the fleet', () => {
  it('is the one configured cluster without a registry, exactly as before fleets', async () => {
    const config = loadConfig({ CLUSTER_NAME: 'solo', SYNC_RESOURCES: 'v1/pods' })
    const fleet = await loadFleet(config, noAws)
    expect(fleet.registry).toBe(false)
    expect(fleet.clusters).toEqual([
      { name: 'solo', resources: config.resources, credentials: 'configured' },
    ])
  })

  it('reads CLUSTERS_SECRET_ID at every load, and its resources override SYNC_RESOURCES', async () => {
    const config = loadConfig({ CLUSTERS_SECRET_ID: 'kms/registry', SYNC_RESOURCES: 'v1/pods' })
    const asked: string[] = []
    const fleet = await loadFleet(config, {
      ...noAws,
      fetchSecret: (id) => {
        asked.push(id)
        return Promise.resolve(
          '[{"name":"a","kubeconfigSecretId":"kms/a","resources":["v1/nodes"]},{"name":"b","kubeconfigSecretId":"kms/b"}]',
        )
      },
    })
    expect(asked).toEqual(['kms/registry'])
    expect(fleet.clusters.map((c) => [c.name, c.resources.map((r) => r.id)])).toEqual([
      ['a', ['v1/nodes']],
      ['b', ['v1/pods']],
    ])
  })

  it('adds discovered clusters, lets a listed entry win, and keeps going past a region that fails', async () => {
    const config = loadConfig({
      CLUSTERS:
        '[{"name":"prod","eksClusterName":"prod-eks","roleArn":"arn:aws:iam::111111111111:role/r"}]',
      EKS_DISCOVERY_TAG: 'kms=on',
      EKS_DISCOVERY_REGIONS: 'eu-west-1,us-east-1',
    })
    const fleet = await loadFleet(config, {
      ...noAws,
      discover: ({ region }) =>
        region === 'us-east-1'
          ? Promise.reject(new Error('AccessDenied'))
          : Promise.resolve([
              { name: 'prod', eksClusterName: 'other', region },
              { name: 'dev', eksClusterName: 'dev', region },
              { name: 'Not_A_Label', eksClusterName: 'Not_A_Label', region },
            ]),
    })
    expect(fleet.clusters.map((c) => c.name)).toEqual(['prod', 'dev'])
    expect(fleet.clusters[0]!.credentials).toMatchObject({ eksClusterName: 'prod-eks' })
    expect(fleet.problems).toEqual([
      expect.stringContaining('"Not_A_Label" is not a DNS label'),
      'EKS discovery in us-east-1 failed: AccessDenied',
    ])
  })

  it('selects named clusters, and names the ones the registry does not have', async () => {
    const config = loadConfig({
      CLUSTERS: '[{"name":"a","kubeconfigPath":"/a"},{"name":"b","kubeconfigPath":"/b"}]',
    })
    const fleet = await loadFleet(config, noAws)
    expect(selectClusters(fleet, ['b']).map((c) => c.name)).toEqual(['b'])
    expect(() => selectClusters(fleet, ['b', 'zz'])).toThrow(
      'cluster(s) "zz" not in the registry (it lists: a, b)',
    )
  })
})
