import { existsSync, readFileSync } from 'node:fs'

import { loadCredentials } from '../credentials.js'
import { httpGet } from '../http-get.js'
import { bins, dirs, files } from '../paths.js'
import { host, ports } from '../ports.js'
import { etcdEndpoint } from './etcd.js'
import type { ServerSpec } from './server.js'

export const apiserverUrl = `https://${host}:${ports.kubeApiserver}`

export const readApiserverCa = () =>
  existsSync(files.apiserverCert) ? readFileSync(files.apiserverCert, 'utf8') : undefined

const warmPaths = [
  '/api/v1/configmaps?limit=1',
  '/api/v1/secrets?limit=1',
  '/apis/apps/v1/deployments?limit=1',
  '/apis/example.com/v1/widgets?limit=1',
]

export const kubeApiserver: ServerSpec = {
  name: 'kube-apiserver',
  bin: bins.kubeApiserver,
  port: ports.kubeApiserver,
  startTimeoutMs: 90_000,
  // Flags follow controller-runtime's envtest, plus the ones the tests rely on (see README).
  command: () => ({
    bin: bins.kubeApiserver,
    args: [
      `--bind-address=${host}`,
      `--advertise-address=${host}`,
      `--secure-port=${ports.kubeApiserver}`,
      `--etcd-servers=${etcdEndpoint}`,
      `--cert-dir=${dirs.kubeCerts}`,
      '--service-cluster-ip-range=10.0.0.0/24',
      `--service-account-issuer=${apiserverUrl}`,
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
    ],
  }),
  healthy: async () => {
    const ca = readApiserverCa()
    if (ca === undefined) return false
    const { adminToken } = loadCredentials()
    const get = (path: string) => httpGet(`${apiserverUrl}${path}`, { ca, token: adminToken })
    const ready = await get('/readyz')
    if (ready.status !== 200 || ready.body !== 'ok') return false
    // readyz turns ok before every watch cache is filled; until then lists answer 429 "storage
    // is (re)initializing". The CRD is absent (404) on a first start, which is fine.
    const lists = await Promise.all(warmPaths.map(get))
    return lists.every((res) => res.status === 200 || res.status === 404)
  },
}
