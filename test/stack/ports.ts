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

export const host = '127.0.0.1'
