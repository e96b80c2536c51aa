import { etcd } from './etcd.js'
import { ferretdb } from './ferretdb.js'
import { kubeApiserver } from './kube-apiserver.js'
import { moto } from './moto.js'
import type { ServerSpec } from './server.js'
import { toxiproxy } from './toxiproxy.js'

export const allServers: ServerSpec[] = [kubeApiserver, etcd, ferretdb, toxiproxy, moto]
