import { MongoClient } from 'mongodb'
import { afterAll, describe, expect, it } from 'vitest'
import { uniqueName } from '../../../stack/test-helpers.js'
import { invokeScript, type ScriptRun } from '../../health/run-invoke.js'

/*
 * MongoDB transport through the reconcile function, as deployed, against the
 * local FerretDB (plain TCP on loopback): an explicit downgrade, or a
 * mongodb:// URI without TLS to a host that is not loopback, is refused
 * unless ALLOW_INSECURE_TLS=true (docs/security.md#transport).
 */

const uri = process.env.MONGODB_URI!
const password = () => new URL(uri).password
const withOption = (option: string) => `${uri}${uri.includes('?') ? '&' : '?'}${option}`

const logLines = (run: ScriptRun) =>
  run.output
    .split('\n')
    .filter((line) => line.startsWith('{') && line.includes('"level"'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)

describe('MongoDB transport, through the reconcile function', () => {
  const db = uniqueName('mtls').replace(/-/g, '_')
  const env = {
    ...process.env,
    ALLOW_INSECURE_TLS: 'false',
    MONGODB_DB: db,
    CLUSTER_NAME: db,
    SYNC_RESOURCES: 'v1/configmaps',
    RETRY_INITIAL_DELAY_MS: '50',
    RETRY_MAX_DELAY_MS: '200',
  }
  const input = { namespaces: ['default'] }
  afterAll(async () => {
    const client = await new MongoClient(uri).connect()
    await client.db(db).dropDatabase()
    await client.close()
  })

  it('refuses tls=false unless ALLOW_INSECURE_TLS=true, then warns and syncs', async () => {
    const plain = { ...env, MONGODB_URI: withOption('tls=false') }

    const refused = await invokeScript('reconcile', input, plain)
    const client = await new MongoClient(uri).connect()
    const collectionsWhenRefused = await client.db(db).listCollections().toArray()
    await client.close()
    const allowed = await invokeScript('reconcile', input, { ...plain, ALLOW_INSECURE_TLS: 'true' })

    expect(refused.code).toBe(1)
    expect(refused.output).toMatch(
      /MongoDB at 127\.0\.0\.1:\d+: tls=false: plain text\. Refused: .*ALLOW_INSECURE_TLS=true/,
    )
    expect(refused.output).not.toContain(password())
    expect(collectionsWhenRefused).toEqual([])

    expect(allowed.result).toMatchObject({
      ok: true,
      resources: [{ resource: 'v1/configmaps', status: 'complete' }],
    })
    expect(logLines(allowed)).toContainEqual(
      expect.objectContaining({
        level: 'WARN',
        event: 'transport.insecure',
        target: 'mongodb',
        problems: ['tls=false: plain text'],
      }),
    )
    expect(allowed.output).not.toContain(password())
  }, 180_000)

  it('refuses a mongodb:// URI without TLS to a host that is not loopback, before connecting', async () => {
    const remote = uri.replace(/@127\.0\.0\.1:/, '@mongo.internal.invalid:')

    const refused = await invokeScript('reconcile', input, { ...env, MONGODB_URI: remote })

    expect(refused.code).toBe(1)
    expect(refused.output).toMatch(
      /mongodb:\/\/ without tls=true to mongo\.internal\.invalid:\d+: the driver connects in plain text\. Refused/,
    )
    // Refused before any connection: no DNS lookup failure, no retries.
    expect(refused.output).not.toMatch(/ENOTFOUND|getaddrinfo|Server selection/)
    expect(refused.output).not.toContain(password())
  }, 120_000)
})
