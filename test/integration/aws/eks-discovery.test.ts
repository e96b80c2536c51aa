import { CreateClusterCommand, EKSClient } from '@aws-sdk/client-eks'
import { describe, expect, it } from 'vitest'
import { discoverEksClusters } from '../../../lib/aws/eks-discovery.js'
import { uniqueName } from '../../stack/test-helpers.js'

const tagKey = 'kube-mongo-sync/fleet'
const nameTag = 'kube-mongo-sync/name'

async function createClusters(
  region: string,
  clusters: ReadonlyArray<{ name: string; tags?: Record<string, string> }>,
): Promise<void> {
  const eks = new EKSClient({ region })
  try {
    for (const { name, tags } of clusters) {
      await eks.send(
        new CreateClusterCommand({
          name,
          roleArn: 'arn:aws:iam::123456789012:role/eks-cluster',
          resourcesVpcConfig: { subnetIds: [] },
          tags,
        }),
      )
    }
  } finally {
    eks.destroy()
  }
}

describe('EKS discovery by tag (moto)', () => {
  it('finds exactly the tagged clusters of every region, named by the name tag or their EKS name', async () => {
    // moto's state is shared by every test: this run's fleet has a tag value of its own.
    const fleet = uniqueName('fleet')
    const tagged = { [tagKey]: fleet }
    const id = fleet.slice(-8)
    const east = { a: `east-a-${id}`, b: `east-b-${id}`, c: `east-c-${id}`, d: `east-d-${id}` }
    const west = { e: `west-e-${id}`, f: `west-f-${id}` }
    await createClusters('us-east-1', [
      { name: east.a, tags: tagged },
      { name: east.b, tags: { ...tagged, [nameTag]: `named-${id}` } },
      { name: east.c },
      { name: east.d, tags: { [tagKey]: `${fleet}-other`, [nameTag]: `other-${id}` } },
    ])
    await createClusters('eu-west-1', [
      { name: west.e, tags: { ...tagged, team: 'payments' } },
      { name: west.f, tags: { team: 'payments' } },
    ])

    const found = await discoverEksClusters({
      tagKey,
      tagValue: fleet,
      regions: ['us-east-1', 'eu-west-1'],
      nameTag,
      // Small pages, so the listing has to follow the paginator's tokens.
      pageSize: 2,
      concurrency: 3,
    })
    expect(found).toEqual([
      { name: east.a, eksClusterName: east.a, region: 'us-east-1' },
      { name: `named-${id}`, eksClusterName: east.b, region: 'us-east-1' },
      { name: west.e, eksClusterName: west.e, region: 'eu-west-1' },
    ])
  })

  it('finds nothing in a region without tagged clusters', async () => {
    const found = await discoverEksClusters({
      tagKey,
      tagValue: uniqueName('nobody'),
      regions: ['ap-southeast-2'],
      nameTag,
    })
    expect(found).toEqual([])
  })

  it('fails naming the region it could not search', async () => {
    await expect(
      discoverEksClusters({
        tagKey,
        tagValue: 'x',
        regions: ['us-east-1'],
        nameTag,
        credentials: () => Promise.reject(new Error('no credentials for discovery')),
      }),
    ).rejects.toThrow(/EKS discovery failed in 1 region\(s\): us-east-1: .*no credentials/)
  })
})
