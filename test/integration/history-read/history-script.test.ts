import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import type { Db } from 'mongodb'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { putSecret } from '../../../scripts/demo/secrets.js'
import { uniqueName } from '../../stack/test-helpers.js'
import { freshDb } from '../store/helpers.js'
import { CLUSTER, allStories } from './fixtures.js'
import { seedHistory } from './seed-history.js'

const run = promisify(execFile)

interface Run {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** The command line the package.json script runs: `npm run history -- <args>`. */
async function history(args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  const command = ['scripts/node22.sh', 'node', '--import', 'tsx', 'scripts/history.ts', ...args]
  return run('bash', command, { env, timeout: 60_000 }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (e: { code?: number; stdout?: string; stderr?: string }) => ({
      code: typeof e.code === 'number' ? e.code : 1,
      stdout: e.stdout ?? '',
      stderr: e.stderr ?? '',
    }),
  )
}

const web = ['--resource', 'apps/v1/deployments', '--namespace', 'shop', '--name', 'web']

describe('npm run history on seeded history', () => {
  let db: Db
  let mongo: { disconnectDB: () => Promise<void> }
  let env: NodeJS.ProcessEnv

  beforeAll(async () => {
    ;({ db, mongo } = await freshDb())
    await seedHistory(db, allStories)
    env = { ...process.env, MONGODB_DB: db.databaseName, CLUSTER_NAME: CLUSTER }
  })
  afterAll(async () => {
    await db.dropDatabase()
    await mongo.disconnectDB()
  })

  it('prints the timeline: time, resourceVersion, type, source, complete marker, decoded paths', async () => {
    const { code, stdout, stderr } = await history(web, env)
    expect(stderr).toBe('')
    expect(code).toBe(0)
    expect(stdout.trimEnd().split('\n')).toEqual([
      'apps/v1/deployments shop/web in cluster prod-eu-1: 6 versions of 2 objects (uids) by that name',
      '2026-11-28T10:00:00.000Z  rv 100  ADDED     watch      complete    (first recorded version) [uid web-uid-1]',
      '2026-11-28T10:05:00.000Z  rv 105  MODIFIED  watch      complete    /spec/template/spec/containers/0/image, /spec/replicas',
      '2026-11-28T10:10:00.000Z  rv 110  MODIFIED  watch      complete    /metadata/labels/tier.example.com~1role',
      '2026-11-28T10:20:00.000Z  rv 130  MODIFIED  reconcile  INCOMPLETE  /spec/template/spec/containers/0/image, /spec/replicas',
      '2026-11-28T10:30:00.000Z  rv 140  DELETED   watch      complete    (deleted: the last state is kept)',
      '2026-11-28T10:40:00.000Z  rv 150  ADDED     watch      complete    (first recorded version) [uid web-uid-2]',
    ])
  })

  it('prints each patch with --diff, old → new, and keys decoded', async () => {
    const { code, stdout } = await history(web.concat('--diff'), env)
    expect(code).toBe(0)
    const lines = stdout.split('\n')
    const at = (prefix: string) => lines.findIndex((l) => l.startsWith(prefix))
    const v105 = at('2026-11-28T10:05:00.000Z')
    expect(lines.slice(v105 + 1, v105 + 3)).toEqual([
      '    replace /spec/template/spec/containers/0/image: "nginx:1.25" → "nginx:1.26"',
      '    replace /spec/replicas: 2 → 3',
    ])
    const v110 = at('2026-11-28T10:10:00.000Z')
    expect(lines[v110 + 1]).toBe('    add /metadata/labels/tier.example.com~1role: "frontend"')
    const v130 = at('2026-11-28T10:20:00.000Z')
    expect(lines[v130 + 1]).toBe(
      '    replace /spec/template/spec/containers/0/image: "nginx:1.26" → "nginx:1.27"',
    )

    const cm = await history(
      ['--resource', 'v1/configmaps', '--namespace', 'shop', '--name', 'settings', '--diff'],
      env,
    )
    expect(cm.stdout).toContain('    replace /data/nginx.conf: "listen 80;" → "listen 8080;"\n')
    expect(cm.stdout).toContain('    remove /data/mode (was "a")\n')
  })

  it('limits the timeline with --since and still knows the old values from the version before', async () => {
    const { stdout } = await history(web.concat('--since', '2026-11-28T10:04:00Z', '--diff'), env)
    const lines = stdout.split('\n')
    expect(lines[0]).toContain(': 5 versions')
    expect(lines[1]).toMatch(/^2026-11-28T10:05:00.000Z {2}rv 105/)
    expect(lines[2]).toBe(
      '    replace /spec/template/spec/containers/0/image: "nginx:1.25" → "nginx:1.26"',
    )
  })

  it('prints the object as it was with --as-of, decoded to the keys Kubernetes serves', async () => {
    const { code, stdout, stderr } = await history(
      web.concat('--as-of', '2026-11-28T10:12:00Z'),
      env,
    )
    expect(code).toBe(0)
    const object = JSON.parse(stdout)
    expect(object.metadata).toMatchObject({
      resourceVersion: '110',
      labels: { 'app.kubernetes.io/name': 'web', 'tier.example.com/role': 'frontend' },
    })
    expect(object.spec.template.spec.containers[0].image).toBe('nginx:1.26')
    expect(stderr).toContain(
      'as of 2026-11-28T10:12:00.000Z: rv 110 observed at 2026-11-28T10:10:00.000Z',
    )
    // The next version (rv 130) came from the reconcile: the answer may miss a change in between.
    expect(stderr).toContain(
      'the next recorded version (rv 130 at 2026-11-28T10:20:00.000Z) is incomplete',
    )
  })

  it('says the object did not exist when its latest version by then is DELETED, and shows the next one by that name', async () => {
    const gone = await history(web.concat('--as-of', '2026-11-28T10:35:00Z'), env)
    expect(gone.code).toBe(0)
    expect(gone.stdout.trim()).toBe(
      'apps/v1/deployments shop/web did not exist at 2026-11-28T10:35:00.000Z: deleted at 2026-11-28T10:30:00.000Z (rv 140, uid web-uid-1)',
    )
    const again = await history(web.concat('--as-of', '2026-11-28T10:45:00Z', '--json'), env)
    expect(JSON.parse(again.stdout)).toMatchObject({
      exists: true,
      version: { uid: 'web-uid-2', resourceVersion: '150', type: 'ADDED' },
      object: { spec: { replicas: 2 } },
    })
  })

  it('prints the whole resource as of T without --name', async () => {
    const { code, stdout } = await history(
      ['--resource', 'v1/configmaps', '--as-of', '2026-11-28T10:22:00Z'],
      env,
    )
    expect(code).toBe(0)
    expect(stdout.trimEnd().split('\n')).toEqual([
      'v1/configmaps in cluster prod-eu-1 as of 2026-11-28T10:22:00.000Z: 2 objects',
      'NAMESPACE  NAME      RESOURCEVERSION  OBSERVED-AT               RECORDED',
      'batch      tie       1000             2026-11-28T10:03:00.000Z  MODIFIED',
      'shop       settings  215              2026-11-28T10:15:00.000Z  MODIFIED',
    ])
  })

  it('answers exit 3 with what is recorded when nothing matches', async () => {
    const early = await history(web.concat('--as-of', '2026-11-28T09:00:00Z'), env)
    expect(early.code).toBe(3)
    expect(early.stderr).toContain(
      'nothing recorded for apps/v1/deployments shop/web in cluster prod-eu-1 at or before 2026-11-28T09:00:00.000Z: its versions span 2026-11-28T10:00:00.000Z to 2026-11-28T10:40:00.000Z',
    )
    const noNamespace = await history(['--resource', 'apps/v1/deployments', '--name', 'web'], env)
    expect(noNamespace.code).toBe(3)
    expect(noNamespace.stderr).toContain('no --namespace was given: is the object namespaced?')
    const unknownResource = await history(['--resource', 'v1/pods', '--as-of', '1h'], env)
    expect(unknownResource.code).toBe(3)
    expect(unknownResource.stderr).toContain('nothing recorded for v1/pods in cluster prod-eu-1')
    const otherCluster = await history(web.concat('--cluster', 'nope'), env)
    expect(otherCluster.code).toBe(3)
    expect(otherCluster.stderr).toContain(
      'nothing recorded for apps/v1/deployments in cluster nope: is the resource id as in HISTORY_RESOURCES',
    )
  })

  it('refuses bad arguments with exit 64, naming the option and what is allowed', async () => {
    const badDuration = await history(web.concat('--since', '2x'), env)
    expect(badDuration.code).toBe(64)
    expect(badDuration.stderr).toContain('--since "2x" is not an ISO 8601 time with a zone')
    const badResource = await history(['--resource', 'deployments', '--name', 'web'], env)
    expect(badResource.code).toBe(64)
    expect(badResource.stderr).toContain('--resource "deployments" is not a resource id')
  })

  it('connects through MONGODB_SECRET_ID as the functions do, and fails clearly without a connection', async () => {
    const secretId = uniqueName('h9-history/mongodb')
    await putSecret(secretId, JSON.stringify({ uri: process.env.MONGODB_URI }))
    const viaSecret = await history(web, { ...env, MONGODB_URI: '', MONGODB_SECRET_ID: secretId })
    expect(viaSecret.stderr).toBe('')
    expect(viaSecret.stdout).toContain(': 6 versions of 2 objects')

    const none = await history(web, { ...env, MONGODB_URI: '', MONGODB_SECRET_ID: '' })
    expect(none.code).toBe(1)
    expect(none.stderr).toContain('No MongoDB connection: set MONGODB_URI, or MONGODB_SECRET_ID')
  })
})
