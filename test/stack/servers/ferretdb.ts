import { MongoClient } from 'mongodb'

import { loadCredentials } from '../credentials.js'
import { bins, dirs } from '../paths.js'
import { host, ports } from '../ports.js'
import type { ServerSpec } from './server.js'

export function ferretdbUri(port = ports.ferretdb): string {
  const { mongoUser, mongoPassword } = loadCredentials()
  return `mongodb://${mongoUser}:${mongoPassword}@${host}:${port}/?directConnection=true&authSource=admin`
}

export const ferretdb: ServerSpec = {
  name: 'ferretdb',
  bin: bins.ferretdb,
  port: ports.ferretdb,
  startTimeoutMs: 30_000,
  command: () => {
    const { mongoUser, mongoPassword } = loadCredentials()
    return {
      bin: bins.ferretdb,
      args: [
        '--handler=sqlite',
        `--sqlite-url=file:${dirs.ferretdbData}/`,
        `--listen-addr=${host}:${ports.ferretdb}`,
        '--state-dir=-',
        '--telemetry=disable',
        '--debug-addr=-',
        '--log-level=warn',
        // Experimental in 1.24 but enforced: a wrong password is a real AuthenticationFailed (18).
        '--test-enable-new-auth',
        `--setup-username=${mongoUser}`,
        `--setup-password=${mongoPassword}`,
        '--setup-database=admin',
      ],
      env: { DO_NOT_TRACK: '1' },
    }
  },
  healthy: async () => {
    const client = new MongoClient(ferretdbUri(), {
      serverSelectionTimeoutMS: 1_000,
      connectTimeoutMS: 1_000,
    })
    try {
      const res = await client.db('admin').command({ ping: 1 })
      return res.ok === 1
    } finally {
      await client.close()
    }
  },
}
