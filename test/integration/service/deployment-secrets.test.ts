import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import { conditionHolds, packageTemplate, packagingEnv, serviceCopy } from './template.js'

const run = promisify(execFile)

/*
 * `serverless package --stage prod` offline, as a deployment would build it:
 * no secret in the function environment unless a parameter allows it, a
 * customer-managed KMS key, and the health role's one secret
 * (docs/security.md#credentials-and-deployment).
 */

const dirs: string[] = []
const newDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'kms-package-'))
  dirs.push(dir)
  return join(dir, 'out')
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

const mongoUri = 'mongodb+srv://inventory:pa55-in-the-shell@cluster0.example.net/'
const hashKey = 'a-hash-key-of-some-length'
const kmsKey = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab'
const kubeSecret = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/kube-AbCdEf'

const policiesOf = (role: unknown) =>
  (role as { Properties: { Policies: unknown[] } }).Properties.Policies

describe('packaging for a deployment', () => {
  it('refuses MONGODB_URI and SECRET_HASH_KEY in the deploying shell, naming the *_SECRET_ID variables', async () => {
    const out = newDir()

    const failure = await run(
      'npx',
      ['serverless', 'package', '--stage', 'prod', '--package', out],
      {
        env: packagingEnv({ MONGODB_URI: mongoUri, SECRET_HASH_KEY: hashKey }),
        cwd: serviceCopy(),
      },
    ).then(
      () => undefined,
      (e: { code?: number; stdout?: string; stderr?: string }) => e,
    )

    expect(failure?.code).not.toBe(0)
    const output = `${failure?.stdout ?? ''}${failure?.stderr ?? ''}`
    expect(output).toContain(
      'Refused: MONGODB_URI and SECRET_HASH_KEY are set in the deploying shell, and the deployment would carry them in plain text in the Lambda configuration and the CloudFormation template.',
    )
    expect(output).toContain(
      'MONGODB_URI: store the value in Secrets Manager, set MONGODB_SECRET_ID to its id, unset MONGODB_URI.',
    )
    expect(output).toContain('set SECRET_HASH_KEY_SECRET_ID to its id')
    expect(output).toContain('--param=allowEnvSecrets=true')
    expect(output).not.toContain('pa55-in-the-shell')
    expect(existsSync(join(out, 'cloudformation-template-update-stack.json'))).toBe(false)
  }, 180_000)

  it('packages them with allowEnvSecrets=true, which puts them in the template in plain text', async () => {
    const t = await packageTemplate(
      newDir(),
      { allowEnvSecrets: 'true' },
      { MONGODB_URI: mongoUri },
    )

    expect(t.Resources.ReconcileLambdaFunction?.Properties?.Environment?.Variables).toMatchObject({
      MONGODB_URI: mongoUri,
    })
  }, 180_000)

  it('gives the health role the MongoDB secret alone, derived from MONGODB_SECRET_ID, and both roles kms:Decrypt on a customer-managed key', async () => {
    const t = await packageTemplate(
      newDir(),
      { secretArns: kubeSecret, secretsKmsKeyArn: kmsKey },
      { MONGODB_SECRET_ID: 'prod/kube-mongo-sync/mongodb' },
    )

    expect(conditionHolds(t, 'HasHealthSecretArns')).toBe(true)
    expect(conditionHolds(t, 'HasSecretsKmsKey')).toBe(true)
    const health = JSON.stringify(policiesOf(t.Resources.HealthFunctionRole))
    expect(health).toContain(
      JSON.stringify({
        Effect: 'Allow',
        Action: 'secretsmanager:GetSecretValue',
        Resource: [
          {
            'Fn::Sub':
              'arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:prod/kube-mongo-sync/mongodb-??????',
          },
        ],
      }),
    )
    expect(health).not.toContain(kubeSecret)
    const decrypt = JSON.stringify({
      Effect: 'Allow',
      Action: 'kms:Decrypt',
      Resource: kmsKey,
      Condition: {
        StringEquals: {
          'kms:ViaService': { 'Fn::Sub': 'secretsmanager.${AWS::Region}.amazonaws.com' },
        },
      },
    })
    expect(health).toContain(decrypt)
    // The sync functions' shared policy, attached to each of their four roles.
    expect(JSON.stringify(t.Resources.SyncAccessPolicy?.Properties)).toContain(decrypt)
    const variables = t.Resources.ReconcileLambdaFunction?.Properties?.Environment?.Variables
    expect(variables?.MONGODB_URI ?? '').toBe('')
    expect(variables?.ALLOW_INSECURE_TLS).toBe('false')
  }, 180_000)

  it('takes a MONGODB_SECRET_ID that is an ARN as is, and no secret and no key without them', async () => {
    const mongoArn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/mongo-XyZ123'
    const withArn = await packageTemplate(newDir(), {}, { MONGODB_SECRET_ID: mongoArn })
    const without = await packageTemplate(newDir(), {}, { MONGODB_SECRET_ID: '' })

    expect(JSON.stringify(policiesOf(withArn.Resources.HealthFunctionRole))).toContain(
      `"Resource":["${mongoArn}"]`,
    )
    expect(conditionHolds(without, 'HasHealthSecretArns')).toBe(false)
    expect(conditionHolds(without, 'HasSecretsKmsKey')).toBe(false)
  }, 180_000)
})
