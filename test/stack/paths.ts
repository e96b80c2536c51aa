import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

// Versions must match the wrapper modules in test/stack/go (build.sh reads them from go.mod).
export const versions = {
  etcd: 'v3.6.16',
  kubeApiserver: 'v1.34.4',
  ferretdb: 'v1.24.2',
  toxiproxy: 'v2.12.0',
  moto: '5.2.5',
} as const

export const repoRoot = resolve(fileURLToPath(new URL('../..', import.meta.url)))
export const stackDir = process.env.KMS_STACK_DIR ?? join(repoRoot, '.stack')
export const cacheDir = process.env.KMS_CACHE_DIR ?? join(homedir(), '.cache', 'kube-mongo-sync')

export const dirs = {
  pids: join(stackDir, 'pids'),
  logs: join(stackDir, 'logs'),
  etcdData: join(stackDir, 'etcd'),
  ferretdbData: join(stackDir, 'ferretdb'),
  kube: join(stackDir, 'kube'),
  kubeCerts: join(stackDir, 'kube', 'certs'),
}

export const files = {
  env: join(stackDir, 'env'),
  credentials: join(stackDir, 'credentials.json'),
  tokens: join(dirs.kube, 'tokens.csv'),
  serviceAccountKey: join(dirs.kube, 'sa.key'),
  apiserverCert: join(dirs.kubeCerts, 'apiserver.crt'),
  kubeconfigAdmin: join(dirs.kube, 'admin.kubeconfig'),
  kubeconfigToxiproxy: join(dirs.kube, 'admin-toxiproxy.kubeconfig'),
  kubeconfigRestricted: join(dirs.kube, 'restricted.kubeconfig'),
}

const bin = (name: string, version: string, file: string) =>
  join(cacheDir, 'bin', `${name}-${version}`, file)

export const bins = {
  etcd: process.env.ETCD_BIN ?? bin('etcd', versions.etcd, 'etcd'),
  kubeApiserver:
    process.env.KUBE_APISERVER_BIN ??
    bin('kube-apiserver', versions.kubeApiserver, 'kube-apiserver'),
  // build.sh patches FerretDB's `_id` look-ups to use its index (see there): a build of its own.
  ferretdb: process.env.FERRETDB_BIN ?? bin('ferretdb', `${versions.ferretdb}-idindex`, 'ferretdb'),
  toxiproxy: bin('toxiproxy', versions.toxiproxy, 'toxiproxy-server'),
  moto: join(cacheDir, `moto-${versions.moto}`, 'bin', 'moto_server'),
}

/** Cluster 1 keeps the original layout; cluster n >= 2 lives in .stack/kube/c<n>/. */
export function clusterFiles(cluster: number): {
  certDir: string
  cert: string
  kubeconfig: string
} {
  if (cluster === 1) {
    return {
      certDir: dirs.kubeCerts,
      cert: files.apiserverCert,
      kubeconfig: files.kubeconfigAdmin,
    }
  }
  const dir = join(dirs.kube, `c${cluster}`)
  const certDir = join(dir, 'certs')
  return {
    certDir,
    cert: join(certDir, 'apiserver.crt'),
    kubeconfig: join(dir, 'admin.kubeconfig'),
  }
}

export const pidFile = (server: string) => join(dirs.pids, `${server}.pid`)
export const logFile = (server: string) => join(dirs.logs, `${server}.log`)
