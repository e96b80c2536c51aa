import { createRequire } from 'node:module'
import { describe, expect, it } from 'vitest'
import { variables } from '../../../lib/config-variables.js'

/*
 * The CommonJS helpers serverless.yml loads (deploy/). Packaging with them is
 * tested in test/integration/service/deployment-secrets.test.ts.
 */

const require = createRequire(import.meta.url)
const guard = require('../../../deploy/plugins/no-secrets-in-environment.cjs') as {
  SECRET_VARIABLES: string[]
  ECHO_ONLY_SECRETS: string[]
  secretsInEnvironment: (service: unknown) => Array<{ name: string; where: string }>
}
const healthSecret = require('../../../deploy/health-secret.cjs') as {
  resourcesOf: (explicit: string, mongodbSecretId: string) => unknown[]
}

describe('the packaging guard', () => {
  it('refuses every variable the configuration marks secret, but the registry, which is never echoed but holds no credential', () => {
    const secret = Object.values(variables)
      .filter((spec) => 'secret' in spec && spec.secret === true)
      .map((spec) => spec.name)

    expect(guard.ECHO_ONLY_SECRETS).toEqual(['CLUSTERS'])
    expect([...guard.SECRET_VARIABLES, ...guard.ECHO_ONLY_SECRETS].sort()).toEqual(secret.sort())
    expect(
      guard.secretsInEnvironment({ provider: { environment: { CLUSTERS: '[{"name":"a"}]' } } }),
    ).toEqual([])
  })

  it('finds them set in the provider or a function environment, not when empty', () => {
    const found = guard.secretsInEnvironment({
      provider: {
        environment: { MONGODB_URI: 'mongodb://x', SECRET_HASH_KEY: '  ', CLUSTER_NAME: 'a' },
      },
      functions: { health: { environment: { SECRET_HASH_KEY: 'k'.repeat(16) } }, watch: {} },
    })

    expect(found).toEqual([
      { name: 'MONGODB_URI', where: 'provider.environment' },
      { name: 'SECRET_HASH_KEY', where: 'functions.health.environment' },
    ])
  })
})

describe('the health role’s secret', () => {
  it.each([
    ['an explicit list wins', 'arn:a, arn:b', 'prod/mongo', ['arn:a', 'arn:b']],
    [
      'an ARN as is',
      '',
      'arn:aws:secretsmanager:eu-west-1:1:secret:m-AbCdEf',
      ['arn:aws:secretsmanager:eu-west-1:1:secret:m-AbCdEf'],
    ],
    [
      'a name as its ARN pattern',
      '',
      'prod/mongo',
      [
        {
          'Fn::Sub':
            'arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:prod/mongo-??????',
        },
      ],
    ],
    ['nothing without either', '', '', []],
  ])('%s', (_, explicit, id, resources) => {
    expect(healthSecret.resourcesOf(explicit, id)).toEqual(resources)
  })
})
