import { httpGet } from '../http-get.js'
import { bins } from '../paths.js'
import { host, ports } from '../ports.js'
import type { ServerSpec } from './server.js'

export const toxiproxyUrl = `http://${host}:${ports.toxiproxyApi}`

export const toxiproxy: ServerSpec = {
  name: 'toxiproxy',
  bin: bins.toxiproxy,
  port: ports.toxiproxyApi,
  startTimeoutMs: 15_000,
  command: () => ({
    bin: bins.toxiproxy,
    args: ['-host', host, '-port', String(ports.toxiproxyApi)],
  }),
  healthy: async () => (await httpGet(`${toxiproxyUrl}/version`)).status === 200,
}
