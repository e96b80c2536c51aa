import { createRequire } from 'node:module'
import { describe, expect, it } from 'vitest'

/*
 * deploy/fleet-iam.cjs: the registry's least-privilege statements, derived
 * at package time. Packaging with it is tested in
 * test/integration/service/fleet.test.ts.
 */

const require = createRequire(import.meta.url)
const fleetIam = require('../../../deploy/fleet-iam.cjs') as {
  statementsOf: (params: Record<string, string>) => Array<Record<string, unknown>>
}
const queueUrls = require('../../../deploy/plugins/work-queue-urls.cjs') as {
  pointAtWorkQueues: (template: unknown) => string[]
}

const sub = (s: string) => ({ 'Fn::Sub': s })
const ownEks = (region: string, name: string) =>
  sub(`arn:\${AWS::Partition}:eks:${region}:\${AWS::AccountId}:cluster/${name}`)
const roleArn = 'arn:aws:iam::210987654321:role/kube-mongo-sync-reader'
const kubeArn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:kube/b-AbCdEf'

const registry = JSON.stringify([
  { name: 'prod-eu', eksClusterName: 'prod', region: 'eu-west-1' },
  { name: 'stage', eksClusterName: 'stage' },
  { name: 'partner', eksClusterName: 'p1', region: 'us-west-2', roleArn, externalId: 'x-1' },
  { name: 'onprem-a', kubeconfigSecretId: 'kube/a' },
  { name: 'onprem-b', kubeconfigSecretId: kubeArn, context: 'b' },
  { name: 'laptop', kubeconfigPath: '/tmp/kubeconfig' },
])

const bySid = (statements: Array<Record<string, unknown>>) =>
  Object.fromEntries(statements.map((s) => [s.Sid, s]))

describe('the fleet’s IAM statements', () => {
  it('grant exactly the listed secrets, the listed EKS clusters of this account in their regions, and the listed roles', () => {
    const s = bySid(fleetIam.statementsOf({ clusters: registry }))

    expect(Object.keys(s).sort()).toEqual([
      'AssumeClusterRoles',
      'DescribeListedEksClusters',
      'ReadClusterSecrets',
    ])
    expect(s.ReadClusterSecrets).toEqual({
      Sid: 'ReadClusterSecrets',
      Effect: 'Allow',
      Action: 'secretsmanager:GetSecretValue',
      Resource: [
        sub(
          'arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:kube/a-??????',
        ),
        kubeArn,
      ],
    })
    // A cross-account cluster is described with its assumed role, in its own account.
    expect(s.DescribeListedEksClusters?.Resource).toEqual([
      ownEks('eu-west-1', 'prod'),
      ownEks('${AWS::Region}', 'stage'),
    ])
    expect(s.AssumeClusterRoles?.Resource).toEqual([roleArn])
  })

  it('add the registry secret and what the operator lists for a registry kept in Secrets Manager', () => {
    const registryArn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:fleet-XyZ123'
    const s = bySid(
      fleetIam.statementsOf({
        clustersSecretArn: registryArn,
        fleetSecretArns: `${kubeArn}, ${kubeArn}`,
        fleetEksClusterArns: 'arn:aws:eks:eu-west-1:123456789012:cluster/x',
        fleetRoleArns: roleArn,
      }),
    )

    expect(s.ReadClusterSecrets?.Resource).toEqual([registryArn, kubeArn])
    expect(s.DescribeListedEksClusters?.Resource).toEqual([
      'arn:aws:eks:eu-west-1:123456789012:cluster/x',
    ])
    expect(s.AssumeClusterRoles?.Resource).toEqual([roleArn])
  })

  it('under discovery, allow eks:ListClusters on * and eks:DescribeCluster on tagged clusters of the discovery regions only', () => {
    const s = bySid(
      fleetIam.statementsOf({
        eksDiscoveryTag: 'inventory=on',
        eksDiscoveryRegions: 'eu-west-1,us-east-2',
      }),
    )

    expect(s.ListEksClustersForDiscovery).toEqual({
      Sid: 'ListEksClustersForDiscovery',
      Effect: 'Allow',
      Action: 'eks:ListClusters',
      Resource: '*',
    })
    expect(s.DescribeTaggedEksClusters).toEqual({
      Sid: 'DescribeTaggedEksClusters',
      Effect: 'Allow',
      Action: 'eks:DescribeCluster',
      Resource: [ownEks('eu-west-1', '*'), ownEks('us-east-2', '*')],
      Condition: { StringEquals: { 'aws:ResourceTag/inventory': 'on' } },
    })
    expect(fleetIam.statementsOf({ eksDiscoveryTag: 'inventory=on' })[1]?.Resource).toEqual([
      ownEks('${AWS::Region}', '*'),
    ])
  })

  it('are none without a registry or discovery', () => {
    expect(fleetIam.statementsOf({ clusters: '', clustersSecretArn: '' })).toEqual([])
  })

  it.each([
    ['not JSON', { clusters: '[{' }, 'the clusters parameter is not valid JSON'],
    ['not an array', { clusters: '{"name":"a"}' }, 'must be a JSON array'],
    ['an entry without a name', { clusters: '[{"eksClusterName":"x"}]' }, 'entry 0 has no "name"'],
    ['a tag without a value', { eksDiscoveryTag: 'inventory' }, 'is not key=value'],
  ])('refuse %s, naming it', (_, params, message) => {
    expect(() => fleetIam.statementsOf(params)).toThrow(message)
  })
})

describe('the work queue URLs of the packaged functions', () => {
  it('point at the deployment’s own queues, whatever the deploying shell held', () => {
    const fn = (variables: Record<string, unknown>) => ({
      Type: 'AWS::Lambda::Function',
      Properties: { Environment: { Variables: variables } },
    })
    const template = {
      Resources: {
        ReconcileWorkQueue: { Type: 'AWS::SQS::Queue' },
        WatchWorkQueue: { Type: 'AWS::SQS::Queue' },
        ReconcileLambdaFunction: fn({
          RECONCILE_QUEUE_URL: 'http://127.0.0.1:5000/000000000000/local',
          WATCH_QUEUE_URL: '',
        }),
        OtherLambdaFunction: fn({ CLUSTER_NAME: 'a' }),
      },
    }

    expect(queueUrls.pointAtWorkQueues(template)).toEqual(['ReconcileLambdaFunction'])
    expect(template.Resources.ReconcileLambdaFunction.Properties.Environment.Variables).toEqual({
      RECONCILE_QUEUE_URL: { Ref: 'ReconcileWorkQueue' },
      WATCH_QUEUE_URL: { Ref: 'WatchWorkQueue' },
    })
    expect(template.Resources.OtherLambdaFunction.Properties.Environment.Variables).toEqual({
      CLUSTER_NAME: 'a',
    })
  })
})
