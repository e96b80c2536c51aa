import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { beforeAll, describe, expect, it } from 'vitest'
import { putSecret } from '../../../scripts/demo/secrets.js'
import { uniqueName } from '../../stack/test-helpers.js'
import { conditionHolds, packageTemplate, packagingEnv, type Template } from './template.js'

const run = promisify(execFile)

interface Invocation {
  readonly code: number
  readonly output: string
  readonly result: Record<string, unknown> | undefined
}

/** `npx serverless invoke local`: the bundled handler, with the environment a deployment passes. */
async function invokeLocal(fn: string, data: unknown, env: NodeJS.ProcessEnv): Promise<Invocation> {
  const args = ['serverless', 'invoke', 'local', '-f', fn, '--data', JSON.stringify(data)]
  const done = await run('npx', args, { env, maxBuffer: 64 * 1024 * 1024, timeout: 180_000 }).then(
    ({ stdout, stderr }) => ({ code: 0, output: `${stdout}\n${stderr}`, stdout }),
    (e: { code?: number; stdout?: string; stderr?: string }) => ({
      code: typeof e.code === 'number' ? e.code : 1,
      output: `${e.stdout ?? ''}\n${e.stderr ?? ''}`,
      stdout: e.stdout ?? '',
    }),
  )
  const start = done.stdout.lastIndexOf('\n{')
  let result: Record<string, unknown> | undefined
  try {
    result = JSON.parse(start >= 0 ? done.stdout.slice(start + 1) : done.stdout) as Record<
      string,
      unknown
    >
  } catch {
    result = undefined
  }
  return { code: done.code, output: done.output, result }
}

describe('the deployable service', () => {
  let env: NodeJS.ProcessEnv
  let mongoPassword: string
  let prefix: string

  beforeAll(async () => {
    prefix = uniqueName('svc')
    const uri = process.env.MONGODB_URI!
    mongoPassword = new URL(uri).password
    await putSecret(`${prefix}/mongodb`, JSON.stringify({ uri }))
    await putSecret(`${prefix}/kubeconfig`, readFileSync(process.env.KUBECONFIG!, 'utf8'))
    await putSecret(`${prefix}/not-a-kubeconfig`, 'apiVersion: v1\nkind: Config\nclusters: 42\n')
    env = {
      ...process.env,
      MONGODB_URI: '',
      KUBECONFIG: '',
      MONGODB_SECRET_ID: `${prefix}/mongodb`,
      KUBECONFIG_SECRET_ID: `${prefix}/kubeconfig`,
      MONGODB_DB: prefix.replace(/-/g, '_'),
      SYNC_RESOURCES: 'v1/configmaps',
      POWERTOOLS_LOG_LEVEL: 'INFO',
    }
  })

  it('packages offline into one bundle per function', async () => {
    await run('npx', ['serverless', 'package'], { env: packagingEnv() })
    const { stdout } = await run('unzip', ['-l', '.serverless/kube-mongo-sync.zip'])
    expect(stdout).toContain('functions/reconcile.cjs')
    expect(stdout).toContain('functions/watch.cjs')
    expect(stdout).toContain('functions/health.cjs')

    // Defaults: the failed-invocations queue on, IAM on GET /health, alarms and dashboard off.
    const t = JSON.parse(
      readFileSync('.serverless/cloudformation-template-update-stack.json', 'utf8'),
    ) as Template
    expect(conditionHolds(t, 'UseFailureQueue')).toBe(true)
    expect(conditionHolds(t, 'HealthIamAuth')).toBe(true)
    expect(conditionHolds(t, 'UseAlarms')).toBe(false)
    expect(conditionHolds(t, 'UseDashboard')).toBe(false)
    expect(conditionHolds(t, 'HasAlarmTopic')).toBe(false)

    const queue = t.Resources.FailedInvocationsQueue!
    expect(queue).toMatchObject({
      Type: 'AWS::SQS::Queue',
      Condition: 'UseFailureQueue',
      Properties: { MessageRetentionPeriod: 1209600 },
    })
    for (const fn of ['Reconcile', 'Watch']) {
      expect(t.Resources[`${fn}LambdaEvConf`]?.Properties).toMatchObject({
        MaximumRetryAttempts: 0,
        DestinationConfig: {
          'Fn::If': [
            'UseFailureQueue',
            { OnFailure: { Destination: { 'Fn::GetAtt': ['FailedInvocationsQueue', 'Arn'] } } },
            { Ref: 'AWS::NoValue' },
          ],
        },
      })
    }
    // Lambda sends to the destination with the function's role: SendMessage on that queue only.
    for (const role of ['ReconcileFunctionRole', 'WatchFunctionRole'])
      expect(JSON.stringify(t.Resources[role]?.Properties)).toContain(
        JSON.stringify({
          Effect: 'Allow',
          Action: 'sqs:SendMessage',
          Resource: { 'Fn::GetAtt': ['FailedInvocationsQueue', 'Arn'] },
        }),
      )

    // Sized for a large cluster's pass (docs/benchmarks.md); no NODE_OPTIONS loads the source map.
    expect(t.Resources.ReconcileLambdaFunction?.Properties).toMatchObject({
      MemorySize: 512,
      Timeout: 900,
    })
    expect(
      t.Resources.ReconcileLambdaFunction?.Properties?.Environment?.Variables?.NODE_OPTIONS,
    ).toBeUndefined()

    // The health function: its own role (no EKS, no queue), behind GET /health.
    expect(t.Resources.HealthLambdaFunction?.Properties).toMatchObject({
      Handler: 'functions/health.handler',
      Role: { 'Fn::GetAtt': ['HealthFunctionRole', 'Arn'] },
    })
    const healthRole = JSON.stringify(t.Resources.HealthFunctionRole)
    expect(healthRole).not.toContain('eks:')
    expect(healthRole).not.toContain('sqs:')
    expect(t.Resources.ApiGatewayResourceHealth?.Properties).toMatchObject({ PathPart: 'health' })
    expect(t.Resources.ApiGatewayMethodHealthGet?.Properties).toMatchObject({
      HttpMethod: 'GET',
      AuthorizationType: { 'Fn::If': ['HealthIamAuth', 'AWS_IAM', 'NONE'] },
      Integration: { Type: 'AWS_PROXY' },
    })

    for (const alarm of [
      'SyncAgeAlarm',
      'ReconcileErrorsAlarm',
      'WatchErrorsAlarm',
      'HealthErrorsAlarm',
      'BreakerOpenAlarm',
    ]) {
      expect(t.Resources[alarm]).toMatchObject({
        Type: 'AWS::CloudWatch::Alarm',
        Condition: 'UseAlarms',
      })
    }
    // One alarm over every cluster of the fleet: the maximum age over the cluster dimension.
    expect(t.Resources.SyncAgeAlarm?.Properties).toMatchObject({
      Threshold: 1800,
      TreatMissingData: 'breaching',
      Metrics: [
        {
          Expression:
            'SELECT MAX(OldestCompleteSyncAgeSeconds) FROM SCHEMA("KubeMongoSync", cluster, service) WHERE service = \'kube-mongo-sync\'',
          ReturnData: true,
        },
      ],
    })
    expect(t.Resources.BreakerOpenAlarm?.Properties).toMatchObject({
      Metrics: [
        {
          Expression:
            'SELECT SUM(BreakerOpens) FROM SCHEMA("KubeMongoSync", cluster, service) WHERE service = \'kube-mongo-sync\'',
        },
      ],
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    })
    // A task that failed its three receives: each dead-letter queue has its alarm.
    for (const alarm of ['ReconcileDeadLettersAlarm', 'WatchDeadLettersAlarm'])
      expect(t.Resources[alarm]).toMatchObject({ Condition: 'UseAlarms' })
    expect(t.Resources.ReconcileErrorsAlarm?.Properties).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: 'ReconcileLambdaFunction' } }],
    })
    expect(t.Resources.Dashboard).toMatchObject({
      Type: 'AWS::CloudWatch::Dashboard',
      Condition: 'UseDashboard',
    })
    expect(
      t.Resources.HealthLambdaFunction?.Properties?.Environment?.Variables
        ?.POWERTOOLS_METRICS_NAMESPACE,
    ).toBe('KubeMongoSync')
  }, 180_000)

  it('packages with every optional part switched by parameter', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kms-package-'))
    try {
      const topic = 'arn:aws:sns:us-east-1:123456789012:ops'
      const t = await packageTemplate(dir, {
        failureQueue: 'false',
        healthIamAuth: 'false',
        alarms: 'true',
        dashboard: 'true',
        alarmTopicArn: topic,
        metricsNamespace: 'Inventory',
        syncAgeAlarmSeconds: '3600',
        secretArns:
          'arn:aws:secretsmanager:us-east-1:123456789012:secret:mongo-a,arn:aws:secretsmanager:us-east-1:123456789012:secret:kube-b',
        healthSecretArns: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:mongo-a',
        reconcileMemory: '1024',
      })
      expect(Number(t.Resources.ReconcileLambdaFunction?.Properties?.MemorySize)).toBe(1024)
      // The health role reads the MongoDB secret alone, the sync role both.
      const healthRole = JSON.stringify(t.Resources.HealthFunctionRole)
      expect(healthRole).toContain('secret:mongo-a')
      expect(healthRole).not.toContain('secret:kube-b')
      expect(JSON.stringify(t.Resources.SyncAccessPolicy)).toContain('secret:kube-b')
      expect(conditionHolds(t, 'UseFailureQueue')).toBe(false)
      expect(conditionHolds(t, 'HealthIamAuth')).toBe(false)
      expect(conditionHolds(t, 'UseAlarms')).toBe(true)
      expect(conditionHolds(t, 'UseDashboard')).toBe(true)
      expect(conditionHolds(t, 'HasAlarmTopic')).toBe(true)
      expect(t.Resources.SyncAgeAlarm?.Properties).toMatchObject({
        Metrics: [
          { Expression: expect.stringContaining('FROM SCHEMA("Inventory", cluster, service)') },
        ],
        AlarmActions: { 'Fn::If': ['HasAlarmTopic', [topic], { Ref: 'AWS::NoValue' }] },
      })

      // A --param is a string; CloudFormation reads "3600" as the number.
      expect(Number(t.Resources.SyncAgeAlarm?.Properties?.Threshold)).toBe(3600)

      const body = (t.Resources.Dashboard?.Properties?.DashboardBody as { 'Fn::Sub': string })[
        'Fn::Sub'
      ]
      const widgets = (
        JSON.parse(body.replaceAll('${AWS::Region}', 'eu-west-1')) as {
          widgets: Array<{ properties: { title: string; metrics: unknown[] } }>
        }
      ).widgets
      const text = JSON.stringify(widgets)
      for (const metric of [
        'ObjectsListed',
        'ObjectsInserted',
        'ObjectsUpdated',
        'ObjectsDeleted',
        'ObjectsUnchanged',
        'PagesListed',
        'ChunkRetries',
        'ChunkFailures',
        'WatchEvents',
        'WatchReconnects',
        'Relists',
        'EventLagMs',
        'SyncDurationMs',
        'WatchDurationMs',
        'SyncFailures',
        'WatchFailures',
        'CompleteSyncAgeSeconds',
        'DeadLetters',
        'PacingSlowdowns',
      ]) {
        expect(text).toContain(
          `SEARCH('{Inventory,cluster,resource,service} MetricName=\\"${metric}\\"`,
        )
      }
      // Per cluster, found by SEARCH: a cluster added to the registry appears without a redeploy.
      for (const metric of ['BreakerOpens', 'OldestCompleteSyncAgeSeconds', 'ResourcesNeverSynced'])
        expect(text).toContain(
          `SEARCH('{Inventory,cluster,service} MetricName=\\"${metric}\\" service=\\"kube-mongo-sync\\"'`,
        )
      // The queues: tasks waiting, dead letters, the oldest task, the workers' concurrency.
      expect(text).toContain('"AWS/SQS","ApproximateNumberOfMessagesVisible"')
      expect(text).toContain('"AWS/Lambda","ConcurrentExecutions"')
      expect(widgets).toHaveLength(25)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }, 180_000)

  it('runs reconcile with credentials from Secrets Manager, as deployed', async () => {
    const out = await invokeLocal('reconcile', { dryRun: true }, env)
    expect(out.code).toBe(0)
    expect(out.result).toMatchObject({
      ok: true,
      dryRun: true,
      resources: [{ resource: 'v1/configmaps', status: 'complete' }],
    })
    expect(out.output).not.toContain(mongoPassword)
  }, 180_000)

  it('runs watch after a reconcile, from the saved checkpoint', async () => {
    expect((await invokeLocal('reconcile', {}, env)).result).toMatchObject({ ok: true })
    const out = await invokeLocal('watch', { windowSeconds: 2 }, env)
    expect(out.result).toMatchObject({
      ok: true,
      resources: [{ resource: 'v1/configmaps', status: 'complete', relists: 0 }],
    })
  }, 240_000)

  it('answers GET /health with 200 after those runs, fetching the MongoDB secret only', async () => {
    // A Kubernetes secret that does not exist: fetching it would fail the invocation.
    const out = await invokeLocal(
      'health',
      {},
      { ...env, KUBECONFIG_SECRET_ID: `${prefix}/no-such-kubeconfig` },
    )
    expect(out.code).toBe(0)
    expect(out.result).toMatchObject({
      statusCode: 200,
      headers: { 'content-type': 'application/json' },
    })
    expect(JSON.parse(String(out.result?.body))).toMatchObject({
      status: 'healthy',
      mongo: { connected: true },
      resources: [{ resource: 'v1/configmaps', healthy: true, reasons: [] }],
    })
    expect(out.output).not.toContain(mongoPassword)
  }, 180_000)

  it.each([
    // osls prints the error as JSON, so the quotes around the field come escaped.
    [{ resources: 5 }, /field \\?"resources\\?"/],
    [{ dryRun: 'yes' }, /field \\?"dryRun\\?"/],
  ])(
    'rejects %j with a message naming the field, and prints no credential',
    async (input, fragment) => {
      const out = await invokeLocal('reconcile', input, env)
      expect(out.code).not.toBe(0)
      expect(out.output).toMatch(fragment)
      expect(out.output).not.toContain(mongoPassword)
    },
    180_000,
  )

  it('names the secret when KUBECONFIG_SECRET_ID does not hold a kubeconfig, and prints no credential', async () => {
    const secretId = String(env.KUBECONFIG_SECRET_ID).replace(/kubeconfig$/, 'not-a-kubeconfig')
    const out = await invokeLocal('reconcile', {}, { ...env, KUBECONFIG_SECRET_ID: secretId })
    expect(out.code).not.toBe(0)
    expect(out.output).toContain(secretId)
    expect(out.output).not.toContain(mongoPassword)
  }, 180_000)
})
