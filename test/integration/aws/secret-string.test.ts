import {
  CreateSecretCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager'
import { afterAll, beforeEach, describe, expect, it } from 'vitest'
import { clearSecretStringCache, fetchSecretString } from '../../../lib/aws/secret-string.js'
import { redactText } from '../../../lib/redact.js'
import { uniqueName } from '../../stack/test-helpers.js'

const secrets = new SecretsManagerClient({})
afterAll(() => secrets.destroy())
beforeEach(() => clearSecretStringCache())

async function createSecret(text: string): Promise<string> {
  const name = uniqueName('kms/test/kubeconfig')
  await secrets.send(new CreateSecretCommand({ Name: name, SecretString: text }))
  return name
}

const kubeconfigText = (token: string) =>
  `apiVersion: v1\nkind: Config\nusers:\n- name: u\n  user:\n    token: ${token}\n`

describe('fetchSecretString (Secrets Manager on moto)', () => {
  it('returns the secret text and registers it with the redactor', async () => {
    const text = JSON.stringify([{ name: 'prod-eu', note: uniqueName('registry') }])
    const id = await createSecret(text)
    expect(await fetchSecretString(id)).toBe(text)
    expect(redactText(`got ${text} here`)).toBe('got *** here')
  })

  it('reuses the fetched text for its time to live, then fetches it again', async () => {
    const before = kubeconfigText(uniqueName('before'))
    const after = kubeconfigText(uniqueName('after'))
    const id = await createSecret(before)
    const clock = { now: 1_000_000 }
    const options = { cacheTtlMs: 60_000, now: () => clock.now }
    expect(await fetchSecretString(id, options)).toBe(before)
    await secrets.send(new PutSecretValueCommand({ SecretId: id, SecretString: after }))
    clock.now += 59_999
    expect(await fetchSecretString(id, options)).toBe(before)
    clock.now += 1
    expect(await fetchSecretString(id, options)).toBe(after)
  })

  it('names a secret that does not exist', async () => {
    const id = uniqueName('kms/test/missing')
    await expect(fetchSecretString(id)).rejects.toThrow(`secret ${id} does not exist`)
  })

  it('refuses a secret holding only binary data, naming it', async () => {
    const id = uniqueName('kms/test/binary')
    await secrets.send(
      new CreateSecretCommand({ Name: id, SecretBinary: new Uint8Array([0, 1, 2, 3, 254, 255]) }),
    )
    await expect(fetchSecretString(id)).rejects.toThrow(`secret ${id} holds binary data, not text`)
  })

  it('fetches from the region it is given', async () => {
    const text = uniqueName('regional-text')
    const id = uniqueName('kms/test/regional')
    const west = new SecretsManagerClient({ region: 'eu-west-1' })
    await west.send(new CreateSecretCommand({ Name: id, SecretString: text }))
    west.destroy()
    expect(await fetchSecretString(id, { region: 'eu-west-1' })).toBe(text)
    await expect(fetchSecretString(id)).rejects.toThrow(`secret ${id} does not exist`)
  })
})
