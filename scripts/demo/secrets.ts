import {
  CreateSecretCommand,
  PutSecretValueCommand,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager'

/** Creates or updates a secret in the (local) Secrets Manager; returns its ARN. */
export async function putSecret(name: string, value: string): Promise<string> {
  const client = new SecretsManagerClient({})
  try {
    const put = await client.send(
      new PutSecretValueCommand({ SecretId: name, SecretString: value }),
    )
    return put.ARN ?? name
  } catch (error) {
    if (!(error instanceof ResourceNotFoundException)) throw error
    const created = await client.send(new CreateSecretCommand({ Name: name, SecretString: value }))
    return created.ARN ?? name
  } finally {
    client.destroy()
  }
}
