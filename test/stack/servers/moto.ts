import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

import { httpGet } from '../http-get.js'
import { bins } from '../paths.js'
import { host, ports } from '../ports.js'
import { runningPid } from '../proc.js'
import type { ServerSpec } from './server.js'

export const motoUrl = `http://${host}:${ports.moto}`

// moto refuses a second PurgeQueue on a queue within 60 s, as AWS does; tests purge their
// queues between cases, and production code never purges, so the stack turns that off.
// PYTHONPATH makes Python import moto-patches/sitecustomize.py at start: moto's SendMessage
// otherwise costs in proportion to the queue's depth (that file says why), which SQS's does not.
// No bytecode: it would leave a __pycache__ in the work tree.
const motoEnv = {
  MOTO_SQS_ENFORCE_STRICT_QUEUE_PURGE_BEHAVIOUR: 'false',
  PYTHONPATH: fileURLToPath(new URL('moto-patches', import.meta.url)),
  PYTHONDONTWRITEBYTECODE: '1',
}

export const moto: ServerSpec = {
  name: 'moto',
  bin: bins.moto,
  port: ports.moto,
  startTimeoutMs: 30_000,
  command: () => ({ bin: bins.moto, args: ['-H', host, '-p', String(ports.moto)], env: motoEnv }),
  healthy: async () => (await httpGet(`${motoUrl}/moto-api/`)).status === 200,
}

/** True when a running moto was started without the stack's current environment (an older up). */
export function motoNeedsRestart(): boolean {
  const pid = runningPid(moto.name, moto.bin)
  if (pid === undefined) return false
  try {
    const environ = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')
    return !Object.entries(motoEnv).every(([k, v]) => environ.includes(`${k}=${v}`))
  } catch {
    return false
  }
}
