import { readFileSync } from 'node:fs'
import { CoreV1Api } from '@kubernetes/client-node'
import type { Context } from 'aws-lambda'
import { MongoClient } from 'mongodb'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { putSecret } from '../../../scripts/demo/secrets.js'
import { pathMatches, startFaultProxy, type FaultProxy } from '../../stack/fault-proxy.js'
import { createTestNamespace, kubeConfigFrom, uniqueName } from '../../stack/test-helpers.js'
import { captureOutput } from '../store/helpers.js'

/*
 * Redaction at the source (docs/security.md#what-is-redacted-where), through
 * the reconcile function's real handler (middy, Secrets Manager, the
 * container kept warm) on the local stack. The API server, behind the fault
 * proxy, fails a list with a message that quotes the MongoDB password, the
 * kubeconfig's token and a Secret's value the function listed before; then an
 * input quotes all three. None of them may reach a log line, the invocation's
 * result, any MongoDB collection or the thrown error (its message and stack
 * are what the Lambda runtime logs and what the failure queue receives).
 */

type Handler = (event: unknown, context: Context) => Promise<Record<string, unknown>>

const kc = kubeConfigFrom()
const core = kc.makeApiClient(CoreV1Api)
const secretValue = 'Secret-value-that-only-the-cluster-knows-42'

function lambdaContext(): Context {
  const started = Date.now()
  return {
    awsRequestId: uniqueName('req'),
    functionName: 'kube-mongo-sync-test-reconcile',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:local:000000000000:function:kube-mongo-sync-test-reconcile',
    memoryLimitInMB: '512',
    logGroupName: '/aws/lambda/kube-mongo-sync-test-reconcile',
    logStreamName: 'local',
    callbackWaitsForEmptyEventLoop: false,
    getRemainingTimeInMillis: () => Math.max(0, 120_000 - (Date.now() - started)),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  }
}

/** What Lambda sends to an on-failure destination (and logs) for a thrown error. */
function failurePayload(error: unknown): string {
  const e = error as Error
  return JSON.stringify({
    errorType: e.name,
    errorMessage: e.message,
    trace: String(e.stack).split('\n'),
  })
}

describe('redaction at the source, through the real reconcile handler', () => {
  let proxy: FaultProxy
  let namespace: string
  let database: string
  let mongoPassword: string
  let kubeToken: string
  let handler: Handler
  let closeContainer: () => Promise<void>
  const saved = { ...process.env }

  beforeAll(async () => {
    namespace = await createTestNamespace(kc, 'redaction')
    await core.createNamespacedSecret({
      namespace,
      body: { metadata: { name: 'db' }, stringData: { password: secretValue } },
    })
    proxy = await startFaultProxy()
    const prefix = uniqueName('redaction')
    const uri = process.env.MONGODB_URI!
    mongoPassword = new URL(uri).password
    kubeToken = kc.getCurrentUser()!.token!
    await putSecret(`${prefix}/mongodb`, JSON.stringify({ uri }))
    await putSecret(`${prefix}/kubeconfig`, readFileSync(proxy.kubeconfigPath, 'utf8'))
    database = prefix.replace(/-/g, '_')
    Object.assign(process.env, {
      MONGODB_URI: '',
      KUBECONFIG: '',
      MONGODB_SECRET_ID: `${prefix}/mongodb`,
      KUBECONFIG_SECRET_ID: `${prefix}/kubeconfig`,
      MONGODB_DB: database,
      CLUSTER_NAME: 'redaction',
      // The mode in which the function receives Secret values: the one that can leak them.
      SECRET_MODE: 'redacted',
      // The fault proxy is a plain http:// API server.
      ALLOW_INSECURE_TLS: 'true',
      RETRY_INITIAL_DELAY_MS: '50',
      RETRY_MAX_DELAY_MS: '200',
    })
    // The handler reads the configuration when it is built: after the environment above.
    handler = ((await import('../../../functions/reconcile.js')) as { handler: Handler }).handler
    closeContainer = (await import('../../../lib/runtime/lambda-handler.js')).closeContainer
  })

  afterAll(async () => {
    await closeContainer?.()
    process.env = saved
    await proxy?.close()
    await core.deleteNamespace({ name: namespace }).catch(() => undefined)
    const mongo = await new MongoClient(process.env.MONGODB_URI!).connect()
    await mongo
      .db(database)
      .dropDatabase()
      .catch(() => undefined)
    await mongo.close()
  })

  it('keeps the MongoDB password, the kubeconfig token and a Secret value out of logs, results, MongoDB and the thrown error', async () => {
    const leaked = () => [mongoPassword, kubeToken, secretValue]
    expect(mongoPassword.length).toBeGreaterThanOrEqual(8)
    expect(kubeToken.length).toBeGreaterThanOrEqual(8)
    const quoting = `password ${mongoPassword} token ${kubeToken} value ${secretValue}`
    const output = captureOutput()
    let listed: Record<string, unknown>
    let failed: Record<string, unknown>
    let thrown: unknown
    try {
      // 1. The function lists the Secret: it has now seen its value.
      listed = await handler(
        { resources: ['v1/secrets'], namespaces: [namespace] },
        lambdaContext(),
      )
      // 2. The API server fails the next list with a message quoting all three.
      proxy.addRule({
        match: pathMatches('/api/v1/configmaps'),
        action: { kind: 'status', status: 403, message: `forbidden: ${quoting}` },
        times: Infinity,
      })
      failed = await handler({ resources: ['v1/configmaps'] }, lambdaContext())
      // 3. An input quoting all three (an unknown field is named in the error): thrown.
      thrown = await handler({ [quoting]: true }, lambdaContext()).then(
        () => undefined,
        (error: unknown) => error,
      )
    } finally {
      output.restore()
    }

    expect(listed).toMatchObject({ ok: true, resources: [{ status: 'complete', listed: 1 }] })
    // The failure path was taken and its text kept, redacted.
    expect(failed).toMatchObject({ ok: false, resources: [{ status: 'failed' }] })
    const failedError = String((failed.resources as Array<{ error: string }>)[0]!.error)
    expect(failedError).toContain('forbidden: password *** token *** value ***')
    expect(thrown).toBeInstanceOf(Error)
    expect((thrown as Error).message).toContain('unknown field(s)')

    const mongo = await new MongoClient(saved.MONGODB_URI!).connect()
    let stored: string
    let lastError: unknown
    try {
      const db = mongo.db(database)
      const parts: string[] = []
      for (const { name } of await db.listCollections().toArray())
        parts.push(JSON.stringify(await db.collection(name).find({}).toArray()))
      stored = parts.join('\n')
      lastError = (await db.collection('sync_state').findOne({ resource: 'v1/configmaps' }))
        ?.lastError
    } finally {
      await mongo.close()
    }
    expect(lastError).toMatchObject({ message: expect.stringContaining('password *** token ***') })

    const places = {
      logs: output.text(),
      'invocation results': JSON.stringify([listed, failed]),
      'MongoDB collections': stored,
      'failure-queue message': failurePayload(thrown),
    }
    expect(places.logs).toContain('password *** token *** value ***')
    for (const [where, text] of Object.entries(places)) {
      for (const secret of leaked()) {
        expect(text.includes(secret), `${where} holds ${secret.slice(0, 4)}...`).toBe(false)
      }
      expect(text).not.toContain(Buffer.from(secretValue).toString('base64'))
    }
  })
})
