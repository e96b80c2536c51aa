import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createKubeClient } from '../../../lib/kube/client.js'
import { redactText } from '../../../lib/redact.js'
import { unguarded } from '../../../lib/resilience/circuit-breaker.js'
import { putSecret } from '../../../scripts/demo/secrets.js'
import { startFaultProxy, type FaultProxy } from '../../stack/fault-proxy.js'
import { uniqueName } from '../../stack/test-helpers.js'
import { invokeScript, type ScriptRun } from '../health/run-invoke.js'

/*
 * The reconcile function, as deployed (handler, middleware, Secrets Manager),
 * against the local stack: kubeconfigs that would run programs inside the
 * function, and API servers reached in plain text or without checking their
 * certificate (docs/security.md).
 */

const logLines = (run: ScriptRun) =>
  run.output
    .split('\n')
    .filter((line) => line.startsWith('{') && line.includes('"level"'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)

const adminToken = () =>
  (
    JSON.parse(readFileSync(process.env.KUBECONFIG!, 'utf8')) as {
      users: Array<{ user: { token: string } }>
    }
  ).users[0]!.user.token

describe('kubeconfigs and API server transport, through the reconcile function', () => {
  let env: NodeJS.ProcessEnv
  let prefix: string
  let proxy: FaultProxy

  beforeAll(async () => {
    prefix = uniqueName('kcsafe')
    proxy = await startFaultProxy()
    env = {
      ...process.env,
      ALLOW_INSECURE_TLS: 'false',
      MONGODB_DB: prefix.replace(/-/g, '_'),
      CLUSTER_NAME: prefix,
      SYNC_RESOURCES: 'v1/configmaps',
      RETRY_INITIAL_DELAY_MS: '50',
      RETRY_MAX_DELAY_MS: '200',
    }
  })
  afterAll(async () => {
    await proxy?.close()
  })

  it('refuses a kubeconfig secret whose user runs an exec plugin, and runs nothing', async () => {
    const marker = join(mkdtempSync(join(tmpdir(), 'kms-exec-')), 'ran')
    // Would print a valid ExecCredential with the admin token, after leaving a marker behind.
    const credential = JSON.stringify({
      apiVersion: 'client.authentication.k8s.io/v1beta1',
      kind: 'ExecCredential',
      status: { token: adminToken() },
    })
    const kubeconfig = JSON.parse(readFileSync(process.env.KUBECONFIG!, 'utf8')) as {
      users: Array<{ user: Record<string, unknown> }>
    }
    kubeconfig.users[0]!.user = {
      exec: {
        apiVersion: 'client.authentication.k8s.io/v1beta1',
        command: '/bin/sh',
        args: ['-c', `touch ${marker}; echo '${credential}'`],
        interactiveMode: 'Never',
      },
    }
    const secretId = `${prefix}/exec-kubeconfig`
    await putSecret(secretId, JSON.stringify(kubeconfig))

    const run = await invokeScript(
      'reconcile',
      { dryRun: true, namespaces: ['default'] },
      { ...env, KUBECONFIG: '', KUBECONFIG_SECRET_ID: secretId },
    )

    expect(run.code).toBe(1)
    expect(run.output).toContain(
      `kubeconfig secret ${secretId} is refused: user "admin" has an exec credential plugin (it runs a program)`,
    )
    expect(existsSync(marker)).toBe(false)
    expect(run.output).not.toContain(adminToken())
  }, 120_000)

  it('refuses a kubeconfig secret whose user has an auth-provider', async () => {
    const kubeconfig = JSON.parse(readFileSync(process.env.KUBECONFIG!, 'utf8')) as {
      users: Array<{ user: Record<string, unknown> }>
    }
    kubeconfig.users[0]!.user = {
      'auth-provider': { name: 'gcp', config: { 'cmd-path': '/bin/true' } },
    }
    const secretId = `${prefix}/auth-provider-kubeconfig`
    await putSecret(secretId, JSON.stringify(kubeconfig))

    const run = await invokeScript(
      'reconcile',
      { dryRun: true, namespaces: ['default'] },
      { ...env, KUBECONFIG: '', KUBECONFIG_SECRET_ID: secretId },
    )

    expect(run.code).toBe(1)
    expect(run.output).toContain('user "admin" has an auth-provider "gcp" (it may run a program)')
  }, 120_000)

  it('refuses an http:// API server with insecure-skip-tls-verify unless ALLOW_INSECURE_TLS=true, then warns', async () => {
    const plain = { ...env, KUBECONFIG: proxy.kubeconfigPath }

    const refused = await invokeScript(
      'reconcile',
      { dryRun: true, namespaces: ['default'] },
      plain,
    )
    const requestsWhenRefused = proxy.requests.length
    const allowed = await invokeScript(
      'reconcile',
      { dryRun: true, namespaces: ['default'] },
      { ...plain, ALLOW_INSECURE_TLS: 'true' },
    )

    expect(refused.code).toBe(1)
    expect(refused.output).toContain(
      `kubeconfig file ${proxy.kubeconfigPath}: API server ${proxy.url}`,
    )
    expect(refused.output).toContain(
      'http:// API server: plain text; insecure-skip-tls-verify: the server certificate is not checked. Refused',
    )
    expect(requestsWhenRefused).toBe(0)

    expect(allowed.result).toMatchObject({
      ok: true,
      resources: [{ resource: 'v1/configmaps', status: 'complete' }],
    })
    expect(logLines(allowed)).toContainEqual(
      expect.objectContaining({
        level: 'WARN',
        event: 'transport.insecure',
        target: 'kubernetes',
        problems: [
          'http:// API server: plain text',
          'insecure-skip-tls-verify: the server certificate is not checked',
        ],
      }),
    )
    expect(proxy.requests.length).toBeGreaterThan(0)
  }, 180_000)

  it('registers a token an auth provider reads from a file (a local kubeconfig) with the redactor', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kms-tokenfile-'))
    const tokenFile = join(dir, 'token')
    writeFileSync(tokenFile, adminToken())
    const kubeconfig = JSON.parse(readFileSync(process.env.KUBECONFIG!, 'utf8')) as {
      users: Array<{ user: Record<string, unknown> }>
    }
    kubeconfig.users[0]!.user = { 'auth-provider': { name: 'file', config: { tokenFile } } }
    const path = join(dir, 'kubeconfig')
    writeFileSync(path, JSON.stringify(kubeconfig))
    const kube = createKubeClient(
      { kind: 'file', path },
      { requestTimeoutMs: 10_000, guard: unguarded },
    )

    expect(redactText(`sent ${adminToken()}`)).toBe(`sent ${adminToken()}`)
    const resolved = await kube.discover({
      group: '',
      version: 'v1',
      plural: 'configmaps',
      id: 'v1/configmaps',
    })
    expect(resolved.kind).toBe('ConfigMap')
    expect(redactText(`sent ${adminToken()}`)).toBe('sent ***')
  })
})
