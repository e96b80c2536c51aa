// Fixed ports in ranges that rarely clash with developer tools; KMS_PORT_OFFSET shifts them all
// so two checkouts can run a stack each.
const offset = Number(process.env.KMS_PORT_OFFSET ?? 0)

export const ports = {
  etcdClient: 23790 + offset,
  etcdPeer: 23791 + offset,
  kubeApiserver: 26443 + offset,
  kubeToxiproxy: 26444 + offset,
  ferretdb: 27117 + offset,
  mongoToxiproxy: 27118 + offset,
  toxiproxyApi: 28474 + offset,
  moto: 25050 + offset,
}

/**
 * Extra clusters (2..maxClusters) get 26450 + n (+ offset), clear of cluster 1's 26443/26444;
 * the cap keeps them below the next checkout's ports when offsets are 100 apart.
 */
export const maxClusters = 40

export function kubeApiserverPort(cluster: number): number {
  if (!Number.isInteger(cluster) || cluster < 1 || cluster > maxClusters) {
    throw new Error(`cluster ${cluster}: must be an integer from 1 to ${maxClusters}`)
  }
  return cluster === 1 ? ports.kubeApiserver : 26450 + offset + cluster
}

export const host = '127.0.0.1'
