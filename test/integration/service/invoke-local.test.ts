import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { promisify } from 'node:util'
import { beforeAll, describe, expect, it } from 'vitest'
import { putSecret } from '../../../scripts/demo/secrets.js'
import { uniqueName } from '../../stack/test-helpers.js'

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

  beforeAll(async () => {
    const prefix = uniqueName('svc')
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
    await run('npx', ['serverless', 'package'], {
      env: { ...process.env, AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '' },
    })
    const { stdout } = await run('unzip', ['-l', '.serverless/kube-mongo-sync.zip'])
    expect(stdout).toContain('functions/reconcile.cjs')
    expect(stdout).toContain('functions/watch.cjs')
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
