import { spawnSync } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { dirname, join } from 'node:path'

import { KubeConfig } from '@kubernetes/client-node'

import { applyClusterSetup } from './cluster-setup.js'
import { resolveClusterCount, stopClustersAbove, type ClusterCountOptions } from './clusters.js'
import { loadCredentials } from './credentials.js'
import { writeEnvFile, type StackEnv } from './env-file.js'
import { writeKubeMaterial } from './kube-material.js'
import { writeKubeconfig } from './kubeconfig.js'
import { clusterFiles, dirs, files, repoRoot, stackDir } from './paths.js'
import { host, ports } from './ports.js'
import { ensureWorkQueues, stackSqsClient } from './queues.js'
import { ensureServer, stopSpec, type Started } from './server-lifecycle.js'
import { withStackLock } from './stack-lock.js'
import { etcd, etcdEndpoint } from './servers/etcd.js'
import { ferretdb, ferretdbUri } from './servers/ferretdb.js'
import {
  apiserverUrl,
  apiserverUrlOf,
  kubeApiserver,
  kubeApiserverSpec,
  readApiserverCa,
  readClusterCa,
} from './servers/kube-apiserver.js'
import { moto, motoNeedsRestart, motoUrl } from './servers/moto.js'
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

async function startKube(env: StackEnv, proxies: Proxy[], clusters: number): Promise<void> {
  const creds = loadCredentials()
  writeKubeMaterial()
  mkdirSync(dirs.etcdData, { recursive: true })
  const stopped = await stopClustersAbove(clusters)
  if (stopped.length > 0) log(`stopped clusters ${stopped.join(', ')} (asked for ${clusters})`)
  await ensure(etcd)
  // All API servers start at once: each has its own cert dir, so none waits for another.
  const numbers = Array.from({ length: clusters }, (_, i) => i + 1)
  const t0 = Date.now()
  await Promise.all(numbers.map((c) => ensure(c === 1 ? kubeApiserver : kubeApiserverSpec(c))))
  if (clusters > 1) log(`${clusters} API servers ready in ${Date.now() - t0} ms`)
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
  env.STACK_CLUSTERS = String(clusters)
  proxies.push({
    name: 'kube',
    listen: `${host}:${ports.kubeToxiproxy}`,
    upstream: `${host}:${ports.kubeApiserver}`,
    enabled: true,
  })
  await Promise.all(numbers.map((c) => setUpCluster(env, c, creds.adminToken)))
}

// KUBECONFIG_1 is KUBECONFIG; cluster n's kubeconfig carries its own CA (its own self-signed cert).
async function setUpCluster(env: StackEnv, cluster: number, token: string): Promise<void> {
  const path = clusterFiles(cluster).kubeconfig
  if (cluster !== 1) {
    mkdirSync(dirname(path), { recursive: true })
    writeKubeconfig(path, { server: apiserverUrlOf(cluster), token, ca: readClusterCa(cluster) })
  }
  env[`KUBECONFIG_${cluster}`] = path
  const kc = new KubeConfig()
  kc.loadFromFile(path)
  await applyClusterSetup(kc, { rbac: true })
}

async function useExternalKube(env: StackEnv, kubeconfig: string): Promise<void> {
  log(
    `TEST_KUBECONFIG set: using ${kubeconfig}; tests needing faults, compaction or restarts will skip`,
  )
  env.KUBECONFIG = kubeconfig
  env.KUBECONFIG_1 = kubeconfig
  env.STACK_KUBE_EXTERNAL = '1'
  env.STACK_CLUSTERS = '1'
  const kc = new KubeConfig()
  kc.loadFromFile(kubeconfig)
  await applyClusterSetup(kc, { rbac: false })
}

// moto keeps its state in memory: the queues are (re)created on every up, which is idempotent.
async function startMoto(env: StackEnv): Promise<void> {
  if (motoNeedsRestart()) {
    log('moto restarting: it was started without the stack environment (servers/moto.ts)')
    await stopSpec(moto)
  }
  await ensure(moto)
  const queues = await ensureWorkQueues({
    prefix: 'kms',
    visibilityTimeoutSeconds: 30,
    client: stackSqsClient(motoUrl),
  })
  env.RECONCILE_QUEUE_URL = queues.reconcile.url
  env.RECONCILE_DLQ_URL = queues.reconcile.dlqUrl
  env.WATCH_QUEUE_URL = queues.watch.url
  env.WATCH_DLQ_URL = queues.watch.dlqUrl
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

export function up(opts: ClusterCountOptions = {}): Promise<StackEnv> {
  return withStackLock(() => upLocked(opts))
}

async function upLocked(opts: ClusterCountOptions): Promise<StackEnv> {
  const t0 = Date.now()
  build()
  log(`build check ${Date.now() - t0} ms`)
  mkdirSync(stackDir, { recursive: true })
  const env: StackEnv = { STACK_DIR: stackDir }
  const proxies: Proxy[] = []
  const testKubeconfig = process.env.TEST_KUBECONFIG
  const clusters = resolveClusterCount(opts)
  if (testKubeconfig && clusters > 1) log(`TEST_KUBECONFIG set: one cluster, not ${clusters}`)
  const kube = testKubeconfig
    ? useExternalKube(env, testKubeconfig)
    : startKube(env, proxies, clusters)
  await Promise.all([kube, startMongo(env, proxies), startMoto(env), ensure(toxiproxy)])
  const toxi = new ToxiproxyClient(toxiproxyUrl)
  // populate replaces existing proxies, which also clears toxics a previous run left behind.
  await toxi.populate(proxies)
  await toxi.reset()
  Object.assign(env, {
    TOXIPROXY_URL: toxiproxyUrl,
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL_SECRETS_MANAGER: motoUrl,
    // The fleet's AWS services come from the same moto server: the work queues, the role a
    // cross-account cluster is reached through, and EKS discovery.
    AWS_ENDPOINT_URL_SQS: motoUrl,
    AWS_ENDPOINT_URL_STS: motoUrl,
    AWS_ENDPOINT_URL_EKS: motoUrl,
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
