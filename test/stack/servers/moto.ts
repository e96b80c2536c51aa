import { httpGet } from '../http-get.js'
import { bins } from '../paths.js'
import { host, ports } from '../ports.js'
import type { ServerSpec } from './server.js'

export const motoUrl = `http://${host}:${ports.moto}`

export const moto: ServerSpec = {
  name: 'moto',
  bin: bins.moto,
  port: ports.moto,
  startTimeoutMs: 30_000,
  command: () => ({ bin: bins.moto, args: ['-H', host, '-p', String(ports.moto)] }),
  healthy: async () => (await httpGet(`${motoUrl}/moto-api/`)).status === 200,
}
