import { existsSync, readFileSync } from 'node:fs'

import { loadCredentials } from '../credentials.js'
import { httpGet } from '../http-get.js'
import { bins, clusterFiles, files } from '../paths.js'
import { host, kubeApiserverPort } from '../ports.js'
import { etcdEndpoint } from './etcd.js'
import type { ServerSpec } from './server.js'

export const apiserverUrlOf = (cluster: number) => `https://${host}:${kubeApiserverPort(cluster)}`
export const apiserverUrl = apiserverUrlOf(1)

export const readClusterCa = (cluster: number) => {
  const { cert } = clusterFiles(cluster)
  return existsSync(cert) ? readFileSync(cert, 'utf8') : undefined
}
export const readApiserverCa = () => readClusterCa(1)

/** Cluster 1 is `kube-apiserver`; cluster n >= 2 is `kube-apiserver-c<n>` (pid and log files). */
export const apiserverName = (cluster: number) =>
  cluster === 1 ? 'kube-apiserver' : `kube-apiserver-c${cluster}`

const warmPaths = [
  '/api/v1/configmaps?limit=1',
  '/api/v1/secrets?limit=1',
  '/apis/apps/v1/deployments?limit=1',
  '/apis/example.com/v1/widgets?limit=1',
]

// Flags follow controller-runtime's envtest, plus the ones the tests rely on (see README).
// Clusters 2..N share etcd, token file and service-account key with cluster 1 but keep their
// objects under their own etcd prefix and serve their own self-signed certificate.
function apiserverArgs(cluster: number): string[] {
  const url = apiserverUrlOf(cluster)
  const args = [
    `--bind-address=${host}`,
    `--advertise-address=${host}`,
    `--secure-port=${kubeApiserverPort(cluster)}`,
    `--etcd-servers=${etcdEndpoint}`,
    `--cert-dir=${clusterFiles(cluster).certDir}`,
    '--service-cluster-ip-range=10.0.0.0/24',
    `--service-account-issuer=${url}`,
    `--service-account-key-file=${files.serviceAccountKey}`,
    `--service-account-signing-key-file=${files.serviceAccountKey}`,
    '--authorization-mode=RBAC',
    '--disable-admission-plugins=ServiceAccount',
    `--token-auth-file=${files.tokens}`,
    // Loopback cannot be a Service endpoint; without this the log fills with that error.
    '--endpoint-reconciler-type=none',
    // Never compact by itself (tests compact on demand), but a non-zero interval is what
    // starts the watch on compact_rev_key that lets the watch cache drop list snapshots
    // older than a compaction: with 0, continue tokens served from the cache never expire.
    '--etcd-compaction-interval=24h',
  ]
  if (cluster !== 1) args.push(`--etcd-prefix=/registry-c${cluster}`)
  return args
}

export function kubeApiserverSpec(cluster: number): ServerSpec {
  const url = apiserverUrlOf(cluster)
  return {
    name: apiserverName(cluster),
    bin: bins.kubeApiserver,
    port: kubeApiserverPort(cluster),
    startTimeoutMs: 90_000,
    command: () => ({ bin: bins.kubeApiserver, args: apiserverArgs(cluster) }),
    healthy: async () => {
      const ca = readClusterCa(cluster)
      if (ca === undefined) return false
      const { adminToken } = loadCredentials()
      const get = (path: string) => httpGet(`${url}${path}`, { ca, token: adminToken })
      const ready = await get('/readyz')
      if (ready.status !== 200 || ready.body !== 'ok') return false
      // readyz turns ok before every watch cache is filled; until then lists answer 429 "storage
      // is (re)initializing". The CRD is absent (404) on a first start, which is fine.
      const lists = await Promise.all(warmPaths.map(get))
      return lists.every((res) => res.status === 200 || res.status === 404)
    },
  }
}

export const kubeApiserver = kubeApiserverSpec(1)
