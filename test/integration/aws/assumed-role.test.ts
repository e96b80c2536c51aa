import { CreateClusterCommand, EKSClient } from '@aws-sdk/client-eks'
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts'
import { describe, expect, it } from 'vitest'
import { assumedRoleCredentials, stsSessionName } from '../../../lib/aws/assumed-role.js'
import { describeEksCluster } from '../../../lib/aws/eks-cluster.js'
import { createEksToken } from '../../../lib/aws/eks-token.js'
import { redactText } from '../../../lib/redact.js'
import { uniqueName } from '../../stack/test-helpers.js'

// The "other account": moto keeps each account's resources apart, by the account of the caller's key.
const otherAccount = '111111111111'
const region = 'us-east-1'

function crossAccountRole() {
  const cluster = uniqueName('xacct')
  const roleArn = `arn:aws:iam::${otherAccount}:role/${uniqueName('kms-reader')}`
  const credentials = assumedRoleCredentials({
    roleArn,
    externalId: uniqueName('external-id'),
    region,
    sessionName: stsSessionName(cluster),
    cluster,
  })
  return { cluster, roleArn, credentials }
}

function decodeToken(token: string): URL {
  expect(token).toMatch(/^k8s-aws-v1\.[A-Za-z0-9_-]+$/)
  return new URL(Buffer.from(token.slice('k8s-aws-v1.'.length), 'base64url').toString())
}

describe('a cross-account role assumed through STS (moto)', () => {
  it('returns temporary credentials of that role, with an ExternalId, and reuses them', async () => {
    const { cluster, roleArn, credentials } = crossAccountRole()
    const first = await credentials()
    expect(first.accessKeyId).not.toBe(process.env.AWS_ACCESS_KEY_ID)
    expect(first.sessionToken).toBeTruthy()
    expect(first.expiration!.getTime()).toBeGreaterThan(Date.now() + 30 * 60 * 1000)
    expect(await credentials()).toBe(first)

    const sts = new STSClient({ region, credentials: first })
    const identity = await sts.send(new GetCallerIdentityCommand({}))
    sts.destroy()
    const roleName = roleArn.split('/').pop()
    expect(identity.Account).toBe(otherAccount)
    expect(identity.Arn).toBe(
      `arn:aws:sts::${otherAccount}:assumed-role/${roleName}/${stsSessionName(cluster)}`,
    )
  })

  it('signs the EKS token with the assumed access key, binding the cluster name', async () => {
    const { credentials } = crossAccountRole()
    const assumed = await credentials()
    const { token } = await createEksToken({ clusterName: 'prod-eu', region, credentials })
    const url = decodeToken(token)
    expect(url.searchParams.get('X-Amz-Credential')).toMatch(
      new RegExp(`^${assumed.accessKeyId}/\\d{8}/${region}/sts/aws4_request$`),
    )
    expect(url.searchParams.get('X-Amz-Security-Token')).toBe(assumed.sessionToken)
    expect(url.searchParams.get('X-Amz-SignedHeaders')).toBe('host;x-k8s-aws-id')
    expect(url.searchParams.get('Action')).toBe('GetCallerIdentity')
  })

  it('describes a cluster of the other account with the assumed role, which the base role cannot see', async () => {
    const { credentials } = crossAccountRole()
    const name = uniqueName('xacct-eks')
    const eks = new EKSClient({ region, credentials })
    await eks.send(
      new CreateClusterCommand({
        name,
        roleArn: `arn:aws:iam::${otherAccount}:role/eks-cluster`,
        resourcesVpcConfig: { subnetIds: [] },
      }),
    )
    eks.destroy()
    const endpoint = await describeEksCluster(name, region, credentials)
    expect(endpoint.server).toMatch(/^https:\/\//)
    expect(endpoint.caData.length).toBeGreaterThan(0)
    await expect(describeEksCluster(name, region)).rejects.toThrow(
      new RegExp(`eks:DescribeCluster ${name} in ${region} failed`),
    )
  })

  it('names the role and the cluster when it cannot assume it', async () => {
    const cluster = uniqueName('broken')
    const roleArn = `arn:aws:iam::${otherAccount}:role/unreachable`
    const credentials = assumedRoleCredentials({
      roleArn,
      region,
      sessionName: stsSessionName(cluster),
      cluster,
      baseCredentials: () => Promise.reject(new Error('no base credentials in this container')),
    })
    const error = (await credentials().catch((e: unknown) => e)) as Error
    expect(error.message).toContain(`sts:AssumeRole ${roleArn} for cluster ${cluster} failed`)
    expect(error.message).toContain('no base credentials in this container')
  })

  it('registers the assumed secret key and session token with the redactor', async () => {
    const { credentials } = crossAccountRole()
    const { secretAccessKey, sessionToken } = await credentials()
    expect(redactText(`key ${secretAccessKey} session ${sessionToken}`)).toBe('key *** session ***')
  })
})
