import { spawnSync } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'

import { KubeConfig } from '@kubernetes/client-node'

import { applyClusterSetup } from './cluster-setup.js'
import { loadCredentials } from './credentials.js'
import { writeEnvFile, type StackEnv } from './env-file.js'
import { writeKubeMaterial } from './kube-material.js'
import { writeKubeconfig } from './kubeconfig.js'
import { dirs, files, repoRoot, stackDir } from './paths.js'
import { host, ports } from './ports.js'
import { ensureServer, type Started } from './server-lifecycle.js'
import { withStackLock } from './stack-lock.js'
import { etcd, etcdEndpoint } from './servers/etcd.js'
import { ferretdb, ferretdbUri } from './servers/ferretdb.js'
import { apiserverUrl, kubeApiserver, readApiserverCa } from './servers/kube-apiserver.js'
import { moto, motoUrl } from './servers/moto.js'
import type { ServerSpec } from './servers/server.js'
import { toxiproxy, toxiproxyUrl } from './servers/toxiproxy.js'
import { ToxiproxyClient, type Proxy } from './toxiproxy.js'

const log = (line: string) => console.log(`stack: ${line}`)

async function ensure(spec: ServerSpec): Promise<Started> {
  const started = await ensureServer(spec)
  const how = started.reused ? 'reused' : 'started'
  log(`${spec.name} ${how} (pid ${started.pid}, port ${spec.port}, ${started.ms} ms)`)
  return started
}

function build(): void {
  const result = spawnSync('bash', [join(repoRoot, 'test/stack/build.sh')], { stdio: 'inherit' })
  if (result.status !== 0) throw new Error(`test/stack/build.sh failed (exit ${result.status})`)
}

// Only a plain single-host URI can be put behind a TCP proxy; SRV and replica-set URIs cannot.
function proxiedMongoUri(uri: string): { upstream: string; uri: string } | undefined {
  const match = /^(mongodb:\/\/)([^@/]*@)?([^/,?@]+)(.*)$/.exec(uri)
  if (!match) return undefined
  const [, scheme, auth = '', hostPort = '', rest = ''] = match
  const upstream = hostPort.includes(':') ? hostPort : `${hostPort}:27017`
  return { upstream, uri: `${scheme}${auth}${host}:${ports.mongoToxiproxy}${rest}` }
}

async function startKube(env: StackEnv, proxies: Proxy[]): Promise<void> {
  const creds = loadCredentials()
  writeKubeMaterial()
  mkdirSync(dirs.etcdData, { recursive: true })
  await ensure(etcd)
  await ensure(kubeApiserver)
  const ca = readApiserverCa()
  const admin = { server: apiserverUrl, token: creds.adminToken, ca }
  env.KUBECONFIG = writeKubeconfig(files.kubeconfigAdmin, admin)
  env.KUBECONFIG_TOXIPROXY = writeKubeconfig(files.kubeconfigToxiproxy, {
    ...admin,
    // The serving certificate names 127.0.0.1, so TLS verifies through the proxy too.
    server: `https://${host}:${ports.kubeToxiproxy}`,
  })
  env.KUBECONFIG_RESTRICTED = writeKubeconfig(files.kubeconfigRestricted, {
    ...admin,
    token: creds.restrictedToken,
    user: 'restricted',
  })
  env.KUBE_APISERVER_URL = apiserverUrl
  env.KUBE_CA_FILE = files.apiserverCert
  env.ETCD_ENDPOINT = etcdEndpoint
  env.STACK_KUBE_EXTERNAL = '0'
  proxies.push({
    name: 'kube',
    listen: `${host}:${ports.kubeToxiproxy}`,
    upstream: `${host}:${ports.kubeApiserver}`,
    enabled: true,
  })
  const kc = new KubeConfig()
  kc.loadFromFile(env.KUBECONFIG)
  await applyClusterSetup(kc, { rbac: true })
}

async function useExternalKube(env: StackEnv, kubeconfig: string): Promise<void> {
  log(
    `TEST_KUBECONFIG set: using ${kubeconfig}; tests needing faults, compaction or restarts will skip`,
  )
  env.KUBECONFIG = kubeconfig
  env.STACK_KUBE_EXTERNAL = '1'
  const kc = new KubeConfig()
  kc.loadFromFile(kubeconfig)
  await applyClusterSetup(kc, { rbac: false })
}

async function startMongo(env: StackEnv, proxies: Proxy[]): Promise<void> {
  const userUri = process.env.MONGODB_URI
  if (userUri) {
    log('MONGODB_URI set: using it instead of FerretDB; FerretDB restart and auth tests will skip')
    env.MONGODB_URI = userUri
    env.STACK_MONGO_EXTERNAL = '1'
  } else {
    mkdirSync(dirs.ferretdbData, { recursive: true })
    loadCredentials()
    await ensure(ferretdb)
    env.MONGODB_URI = ferretdbUri()
    env.STACK_MONGO_EXTERNAL = '0'
  }
  const proxied = proxiedMongoUri(env.MONGODB_URI)
  if (proxied) {
    env.MONGODB_URI_TOXIPROXY = proxied.uri
    proxies.push({
      name: 'mongo',
      listen: `${host}:${ports.mongoToxiproxy}`,
      upstream: proxied.upstream,
      enabled: true,
    })
  }
}

export function up(): Promise<StackEnv> {
  return withStackLock(upLocked)
}

async function upLocked(): Promise<StackEnv> {
  const t0 = Date.now()
  build()
  log(`build check ${Date.now() - t0} ms`)
  mkdirSync(stackDir, { recursive: true })
  const env: StackEnv = { STACK_DIR: stackDir }
  const proxies: Proxy[] = []
  const testKubeconfig = process.env.TEST_KUBECONFIG
  const kube = testKubeconfig ? useExternalKube(env, testKubeconfig) : startKube(env, proxies)
  await Promise.all([kube, startMongo(env, proxies), ensure(moto), ensure(toxiproxy)])
  const toxi = new ToxiproxyClient(toxiproxyUrl)
  // populate replaces existing proxies, which also clears toxics a previous run left behind.
  await toxi.populate(proxies)
  await toxi.reset()
  Object.assign(env, {
    TOXIPROXY_URL: toxiproxyUrl,
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL_SECRETS_MANAGER: motoUrl,
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    AWS_EC2_METADATA_DISABLED: 'true',
    // The one place the tests accept insecure transport (docs/security.md#transport): the HTTP
    // fault proxy (test/stack/fault-proxy.ts) is a plain http:// API server, and a MONGODB_URI
    // of your own may be plain text to another host. Tests of the refusal set it to false.
    ALLOW_INSECURE_TLS: 'true',
  })
  writeEnvFile(env)
  log(`ready in ${Date.now() - t0} ms; environment in ${files.env}`)
  return env
}
