import { CreateClusterCommand, DescribeClusterCommand, EKSClient } from '@aws-sdk/client-eks'
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts'
import { describe, expect, it } from 'vitest'
import { loadConfig } from '../../../lib/config.js'
import {
  kubeconfigSourceOf,
  type RoleCredentialsCache,
} from '../../../lib/fleet/cluster-credentials.js'
import { parseRegistryEntries } from '../../../lib/fleet/registry-schema.js'
import { fleetClusterOf } from '../../../lib/fleet/registry.js'
import { queueDepth } from '../../stack/queues.js'
import { uniqueName } from '../../stack/test-helpers.js'
import { fleetEnv, invoke, kubeconfigPathOf } from './helpers.js'

/*
 * A registry entry for a cluster in another account (moto keeps accounts
 * apart by the caller's key): the worker assumes the entry's role, describes
 * the cluster with it and signs its tokens with it. And a registry with bad
 * entries among good ones stops the function at once, naming every bad one.
 */

const region = 'us-east-1'
const otherAccount = '111111111111'
const roleArn = `arn:aws:iam::${otherAccount}:role/x`

/** Credentials of the other account, as its own administrator would hold them. */
async function otherAccountCredentials() {
  const sts = new STSClient({ region })
  const { Credentials: c } = await sts.send(
    new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'test-admin' }),
  )
  sts.destroy()
  return {
    accessKeyId: c!.AccessKeyId!,
    secretAccessKey: c!.SecretAccessKey!,
    sessionToken: c!.SessionToken!,
  }
}

function decodeToken(token: string): URL {
  expect(token).toMatch(/^k8s-aws-v1\.[A-Za-z0-9_-]+$/)
  return new URL(Buffer.from(token.slice('k8s-aws-v1.'.length), 'base64url').toString())
}

const entryFor = (eksClusterName: string, withRole: boolean) => {
  const entry = {
    name: 'partner',
    eksClusterName,
    region,
    ...(withRole ? { roleArn, externalId: 'partner-external-id' } : {}),
  }
  const [parsed] = parseRegistryEntries([entry], 'CLUSTERS')
  return fleetClusterOf(parsed!, loadConfig(process.env).resources)
}

describe('a cross-account cluster entry', () => {
  it('assumes its role before describing the cluster, and signs the token with the assumed key', async () => {
    const eksClusterName = uniqueName('partner-eks')
    const eks = new EKSClient({ region, credentials: await otherAccountCredentials() })
    await eks.send(
      new CreateClusterCommand({
        name: eksClusterName,
        roleArn: `arn:aws:iam::${otherAccount}:role/eks-cluster`,
        resourcesVpcConfig: { subnetIds: [] },
      }),
    )
    const { cluster: created } = await eks.send(
      new DescribeClusterCommand({ name: eksClusterName }),
    )
    eks.destroy()

    const roles: RoleCredentialsCache = new Map()
    const edge = { config: loadConfig(process.env), secrets: {}, roles }
    const source = await kubeconfigSourceOf(entryFor(eksClusterName, true), edge)
    if (source.kind !== 'eks') throw new Error(`expected an EKS source, got ${source.kind}`)
    expect(source.server).toBe(created!.endpoint)
    expect(source.caData).toBe(created!.certificateAuthority!.data)

    // The role was assumed (one provider, for this role) and its key signed the token.
    expect(roles.size).toBe(1)
    const assumed = await [...roles.values()][0]!()
    expect(assumed.accessKeyId).not.toBe(process.env.AWS_ACCESS_KEY_ID)
    const url = decodeToken(await source.getToken())
    expect(url.searchParams.get('X-Amz-Credential')).toMatch(
      new RegExp(`^${assumed.accessKeyId}/\\d{8}/${region}/sts/aws4_request$`),
    )
    expect(url.searchParams.get('X-Amz-Security-Token')).toBe(assumed.sessionToken)
    expect(url.searchParams.get('Action')).toBe('GetCallerIdentity')

    // Without the role, the deployment's own account does not see the cluster at all.
    const own = kubeconfigSourceOf(entryFor(eksClusterName, false), {
      ...edge,
      roles: new Map(),
    })
    await expect(own).rejects.toThrow(new RegExp(`eks:DescribeCluster ${eksClusterName}`))
  })
})

describe('a registry with bad entries among good ones', () => {
  it('stops the reconcile function at start with one error naming every bad entry, and plans nothing', async () => {
    const clusters = [
      { name: 'c1', kubeconfigPath: kubeconfigPathOf(1) },
      { name: 'Bad_Name', kubeconfigPath: kubeconfigPathOf(2) },
      { name: 'c3', kubeconfigPath: kubeconfigPathOf(3) },
      { name: 'nosource' },
      { name: 'c1', kubeconfigPath: kubeconfigPathOf(2) },
      { name: 'rolewithoutks', kubeconfigPath: kubeconfigPathOf(2), roleArn },
    ]
    const fleet = await fleetEnv('badreg', [1, 3], { CLUSTERS: JSON.stringify(clusters) })
    const run = await invoke('reconcile', {}, fleet.env)
    expect(run.code).toBe(1)
    const failure = run.output.split('\n').filter((line) => line.includes('CLUSTERS'))
    expect(failure.length, run.output.slice(-2000)).toBeGreaterThan(0)
    const text = failure.join('\n')
    expect(text).toContain('entry 1 ("Bad_Name")')
    expect(text).toContain('entry 3 ("nosource")')
    expect(text).toContain('entry 4 ("c1"): the name is already used by entry 0')
    expect(text).toContain('entry 5 ("rolewithoutks")')
    // The good entries are not named as problems.
    expect(text).not.toMatch(/entry 0 /)
    expect(text).not.toMatch(/entry 2 /)
    expect((await queueDepth(fleet.queues.reconcile.url)).total).toBe(0)
  })
})
