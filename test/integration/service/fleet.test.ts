import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { conditionHolds, packageTemplate, type Template } from './template.js'

/*
 * `serverless package` offline for a fleet (docs/fleets.md, docs/scaling.md):
 * the work queues and their dead-letter queues, the workers' event sources,
 * one role per function holding only its queue, the registry's
 * least-privilege statements (deploy/fleet-iam.cjs), and alarms that cover
 * every cluster.
 */

const dirs: string[] = []
const newDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'kms-fleet-package-'))
  dirs.push(dir)
  return join(dir, 'out')
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

type Resource = Template['Resources'][string]
type Statement = {
  Effect: string
  Action: string | string[]
  Resource: unknown
  Condition?: unknown
}

const roleArn = 'arn:aws:iam::210987654321:role/kube-mongo-sync-reader'
const kubeArn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:kube/b-AbCdEf'
const registryArn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:fleet-XyZ123'
const clusters = JSON.stringify([
  { name: 'prod-eu', eksClusterName: 'prod', region: 'eu-west-1' },
  { name: 'partner', eksClusterName: 'p1', region: 'us-west-2', roleArn, externalId: 'x-1' },
  { name: 'onprem-b', kubeconfigSecretId: kubeArn },
])

const props = (r: Resource | undefined) => (r?.Properties ?? {}) as Record<string, unknown>

/** A list element as CloudFormation resolves it: Fn::If by its condition, AWS::NoValue dropped. */
function resolved(t: Template, items: unknown[]): unknown[] {
  return items
    .map((item) => {
      const choice = (item as { 'Fn::If'?: [string, unknown, unknown] })['Fn::If']
      return choice ? (conditionHolds(t, choice[0]) ? choice[1] : choice[2]) : item
    })
    .filter((item) => (item as { Ref?: string }).Ref !== 'AWS::NoValue')
}

/** Every statement of a role: its inline policies and the managed policies of this template it attaches. */
function statementsOf(t: Template, role: string): Statement[] {
  const p = props(t.Resources[role])
  const documents = [
    ...resolved(t, (p.Policies ?? []) as unknown[]).map(
      (policy) => (policy as { PolicyDocument: unknown }).PolicyDocument,
    ),
    ...resolved(t, p.ManagedPolicyArns as unknown[])
      .map((arn) => (arn as { Ref?: string }).Ref)
      .filter((ref) => ref !== undefined && t.Resources[ref]?.Type === 'AWS::IAM::ManagedPolicy')
      .map((ref) => props(t.Resources[ref!]).PolicyDocument),
  ] as Array<{ Statement: unknown[] }>
  return documents.flatMap((d) => resolved(t, d.Statement)) as Statement[]
}

const actionsOf = (statements: Statement[]) =>
  statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]))

describe('a fleet deployment', () => {
  let t: Template

  beforeAll(async () => {
    t = await packageTemplate(newDir(), {
      clusters,
      clustersSecretArn: registryArn,
      fleetRoleArns: 'arn:aws:iam::333333333333:role/other-reader',
      eksDiscoveryTag: 'inventory=on',
      eksDiscoveryRegions: 'eu-west-1',
      workerMaxConcurrency: '50',
      alarms: 'true',
      dashboard: 'true',
    })
  }, 180_000)

  it('has two work queues, each with a dead-letter queue after 3 receives kept 14 days, and a visibility timeout 6x its worker’s timeout', () => {
    for (const [queue, dlq, worker] of [
      ['ReconcileWorkQueue', 'ReconcileDeadLetterQueue', 'ReconcileWorkerLambdaFunction'],
      ['WatchWorkQueue', 'WatchDeadLetterQueue', 'WatchWorkerLambdaFunction'],
    ] as const) {
      const q = props(t.Resources[queue])
      expect(t.Resources[queue]?.Type).toBe('AWS::SQS::Queue')
      expect(q.RedrivePolicy).toEqual({
        deadLetterTargetArn: { 'Fn::GetAtt': [dlq, 'Arn'] },
        maxReceiveCount: 3,
      })
      expect(props(t.Resources[dlq]).MessageRetentionPeriod).toBe(1_209_600)
      const timeout = Number(props(t.Resources[worker]).Timeout)
      expect(Number(q.VisibilityTimeout)).toBe(6 * timeout)
    }
    expect(Number(props(t.Resources.ReconcileWorkerLambdaFunction).Timeout)).toBe(900)
    expect(Number(props(t.Resources.WatchWorkerLambdaFunction).Timeout)).toBe(90)
  })

  it('feeds each worker from its queue one message at a time, under maximumConcurrency, reporting partial failures', () => {
    const mappings = Object.values(t.Resources).filter(
      (r) => r.Type === 'AWS::Lambda::EventSourceMapping',
    )
    expect(mappings).toHaveLength(2)
    for (const [queue, fn] of [
      ['ReconcileWorkQueue', 'ReconcileWorkerLambdaFunction'],
      ['WatchWorkQueue', 'WatchWorkerLambdaFunction'],
    ]) {
      const mapping = mappings.find(
        (m) =>
          JSON.stringify(props(m).EventSourceArn) ===
          JSON.stringify({ 'Fn::GetAtt': [queue, 'Arn'] }),
      )
      expect(props(mapping)).toMatchObject({
        BatchSize: 1,
        FunctionName: { 'Fn::GetAtt': [fn, 'Arn'] },
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      })
      expect(
        Number(
          (props(mapping).ScalingConfig as { MaximumConcurrency: unknown }).MaximumConcurrency,
        ),
      ).toBe(50)
    }
  })

  it('points every sync function at the work queues', () => {
    for (const fn of ['Reconcile', 'Watch', 'ReconcileWorker', 'WatchWorker']) {
      const variables = t.Resources[`${fn}LambdaFunction`]?.Properties?.Environment?.Variables as
        Record<string, unknown> | undefined
      expect(variables?.RECONCILE_QUEUE_URL).toEqual({ Ref: 'ReconcileWorkQueue' })
      expect(variables?.WATCH_QUEUE_URL).toEqual({ Ref: 'WatchWorkQueue' })
      expect(variables?.CLUSTERS).toBe(clusters)
      expect(variables?.CLUSTERS_SECRET_ID).toBe(registryArn)
      expect(variables?.EKS_DISCOVERY_TAG).toBe('inventory=on')
    }
  })

  it('sizes each worker container’s MongoDB pool for its one task, and keeps none idle', () => {
    const pool = (fn: string) => {
      const v = t.Resources[`${fn}LambdaFunction`]?.Properties?.Environment?.Variables
      return [String(v?.MONGO_POOL_MAX), String(v?.MONGO_POOL_MIN)]
    }

    expect(pool('ReconcileWorker')).toEqual(['4', '0'])
    expect(pool('WatchWorker')).toEqual(['10', '0'])
    expect(pool('Reconcile')).toEqual(['10', '2'])
  })

  it('gives each function its own role: planners send to their queue only, workers consume theirs only', () => {
    const sqs = (role: string) =>
      statementsOf(t, role).filter((s) => actionsOf([s]).some((a) => a.startsWith('sqs:')))
    const on = (queue: string) => ({ 'Fn::GetAtt': [queue, 'Arn'] })
    const consume = [
      'sqs:ReceiveMessage',
      'sqs:DeleteMessage',
      'sqs:ChangeMessageVisibility',
      'sqs:GetQueueAttributes',
    ]

    expect(props(t.Resources.ReconcileLambdaFunction).Role).toEqual({
      'Fn::GetAtt': ['ReconcileFunctionRole', 'Arn'],
    })
    expect(props(t.Resources.ReconcileWorkerLambdaFunction).Role).toEqual({
      'Fn::GetAtt': ['ReconcileWorkerRole', 'Arn'],
    })
    expect(sqs('ReconcileFunctionRole')).toEqual([
      { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: on('ReconcileWorkQueue') },
      { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: on('FailedInvocationsQueue') },
    ])
    expect(sqs('WatchFunctionRole')).toEqual([
      { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: on('WatchWorkQueue') },
      { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: on('FailedInvocationsQueue') },
    ])
    expect(sqs('ReconcileWorkerRole')).toEqual([
      { Effect: 'Allow', Action: consume, Resource: on('ReconcileWorkQueue') },
    ])
    expect(sqs('WatchWorkerRole')).toEqual([
      { Effect: 'Allow', Action: consume, Resource: on('WatchWorkQueue') },
    ])
    // Fixed names, for other accounts' trust policies and EKS access entries.
    expect(props(t.Resources.ReconcileWorkerRole).RoleName).toMatch(
      /^kube-mongo-sync-dev-[a-z]{2}(-[a-z]+)+-\d-reconcileWorker$/,
    )
    expect(JSON.stringify(t.Resources.HealthFunctionRole)).not.toContain('sqs:')
    expect(t.Resources.IamRoleLambdaExecution).toBeUndefined()
  })

  it('scopes cluster access to the registry: its secrets, its EKS clusters, its roles, discovery by tag; nothing * but eks:ListClusters', () => {
    expect(conditionHolds(t, 'HasFleetAccess')).toBe(true)
    for (const role of [
      'ReconcileFunctionRole',
      'WatchFunctionRole',
      'ReconcileWorkerRole',
      'WatchWorkerRole',
    ]) {
      const statements = statementsOf(t, role)
      const allowing = (action: string) => statements.filter((s) => actionsOf([s]).includes(action))

      expect(
        allowing('secretsmanager:GetSecretValue').flatMap((s) => s.Resource as unknown[]),
      ).toEqual(expect.arrayContaining([kubeArn, registryArn]))
      expect(allowing('sts:AssumeRole').flatMap((s) => s.Resource)).toEqual([
        roleArn,
        'arn:aws:iam::333333333333:role/other-reader',
      ])
      const describe = allowing('eks:DescribeCluster')
      expect(describe.find((s) => !s.Condition)?.Resource).toEqual([
        { 'Fn::Sub': 'arn:${AWS::Partition}:eks:eu-west-1:${AWS::AccountId}:cluster/prod' },
      ])
      expect(describe.find((s) => s.Condition)).toEqual({
        Sid: 'DescribeTaggedEksClusters',
        Effect: 'Allow',
        Action: 'eks:DescribeCluster',
        Resource: [
          { 'Fn::Sub': 'arn:${AWS::Partition}:eks:eu-west-1:${AWS::AccountId}:cluster/*' },
        ],
        Condition: { StringEquals: { 'aws:ResourceTag/inventory': 'on' } },
      })
      const wildcards = statements.filter((s) => JSON.stringify(s.Resource) === '"*"')
      expect(actionsOf(wildcards)).toEqual(['eks:ListClusters'])
      expect(statements.every((s) => s.Effect === 'Allow')).toBe(true)
    }
  })

  it('alarms on the stalest cluster, on breaker opens in any cluster, and on each dead-letter queue', () => {
    const stale = props(t.Resources.SyncAgeAlarm)
    expect(stale.Metrics).toEqual([
      expect.objectContaining({
        Expression:
          'SELECT MAX(OldestCompleteSyncAgeSeconds) FROM SCHEMA("KubeMongoSync", cluster, service) WHERE service = \'kube-mongo-sync\'',
        ReturnData: true,
      }),
    ])
    expect(stale.TreatMissingData).toBe('breaching')
    expect(JSON.stringify(props(t.Resources.BreakerOpenAlarm).Metrics)).toContain(
      'SELECT SUM(BreakerOpens)',
    )
    for (const [alarm, dlq] of [
      ['ReconcileDeadLettersAlarm', 'ReconcileDeadLetterQueue'],
      ['WatchDeadLettersAlarm', 'WatchDeadLetterQueue'],
    ] as const) {
      expect(props(t.Resources[alarm])).toMatchObject({
        Namespace: 'AWS/SQS',
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlq, 'QueueName'] } }],
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      })
    }
    // The dashboard searches over the cluster dimension: no cluster name is fixed in it.
    const body = JSON.stringify(props(t.Resources.Dashboard).DashboardBody)
    expect(body).toContain("SEARCH('{KubeMongoSync,cluster,service}")
    expect(body).toContain("SEARCH('{KubeMongoSync,cluster,resource,service}")
    expect(body).not.toMatch(/cluster=/)
  })
})

describe('a single-cluster deployment', () => {
  it('has no fleet policy, and the same queues and workers, idle until something plans', async () => {
    const t = await packageTemplate(
      newDir(),
      {},
      { CLUSTERS: '', CLUSTERS_SECRET_ID: '', EKS_DISCOVERY_TAG: '' },
    )

    expect(conditionHolds(t, 'HasFleetAccess')).toBe(false)
    expect(t.Resources.ReconcileWorkQueue?.Type).toBe('AWS::SQS::Queue')
    const wildcards = Object.values(t.Resources)
      .filter((r) => r.Type === 'AWS::IAM::ManagedPolicy' || r.Type === 'AWS::IAM::Role')
      .filter((r) => !r.Condition || conditionHolds(t, r.Condition))
      .filter((r) => JSON.stringify(r).includes('"Resource":"*"'))
    expect(wildcards).toEqual([])
  }, 180_000)

  it('refuses a registry parameter that is not JSON, naming it', async () => {
    const failure = await packageTemplate(newDir(), { clusters: '[{"name":' }).then(
      () => undefined,
      (e: { stdout?: string; stderr?: string }) => `${e.stdout ?? ''}${e.stderr ?? ''}`,
    )

    expect(failure).toContain('the clusters parameter is not valid JSON')
  }, 180_000)
})
