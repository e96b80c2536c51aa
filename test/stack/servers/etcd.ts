import { bins, dirs } from '../paths.js'
import { httpGet } from '../http-get.js'
import { host, ports } from '../ports.js'
import type { ServerSpec } from './server.js'

export const etcdEndpoint = `http://${host}:${ports.etcdClient}`

export const etcd: ServerSpec = {
  name: 'etcd',
  bin: bins.etcd,
  port: ports.etcdClient,
  startTimeoutMs: 30_000,
  command: () => {
    const peer = `http://${host}:${ports.etcdPeer}`
    return {
      bin: bins.etcd,
      args: [
        '--name=kms',
        `--data-dir=${dirs.etcdData}`,
        `--listen-client-urls=${etcdEndpoint}`,
        `--advertise-client-urls=${etcdEndpoint}`,
        `--listen-peer-urls=${peer}`,
        `--initial-advertise-peer-urls=${peer}`,
        `--initial-cluster=kms=${peer}`,
        // Test data is disposable; fsync dominates write latency on CI disks.
        '--unsafe-no-fsync',
        '--log-level=warn',
      ],
    }
  },
  healthy: async () => {
    const res = await httpGet(`${etcdEndpoint}/health`)
    return res.status === 200 && (JSON.parse(res.body) as { health?: string }).health === 'true'
  },
}
