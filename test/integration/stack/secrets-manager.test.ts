import {
  CreateSecretCommand,
  GetSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager'
import { describe, expect, it } from 'vitest'

import { uniqueName } from '../../stack/test-helpers.js'

describe('the stack Secrets Manager (moto)', () => {
  it('stores and returns a secret through the AWS SDK', async () => {
    const client = new SecretsManagerClient({})
    const name = uniqueName('kms/smoke')
    const value = JSON.stringify({ uri: 'mongodb://example' })
    await client.send(new CreateSecretCommand({ Name: name, SecretString: value }))
    const got = await client.send(new GetSecretValueCommand({ SecretId: name }))
    expect(got.SecretString).toBe(value)
  })
})
