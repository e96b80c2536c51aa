import { readFileSync } from 'node:fs'

import { logFile } from './paths.js'
import {
  adopt,
  findByCommandLine,
  isOurs,
  runningPid,
  startDetached,
  stopServer,
  type StopOptions,
} from './proc.js'
import type { ServerSpec } from './servers/server.js'
import { sleep } from './wait.js'

export interface Started {
  pid: number
  reused: boolean
  ms: number
}

const healthyNow = (spec: ServerSpec) => spec.healthy().catch(() => false)

function logTail(server: string, lines = 15): string {
  try {
    return readFileSync(logFile(server), 'utf8').trimEnd().split('\n').slice(-lines).join('\n')
  } catch {
    return '(no log)'
  }
}

async function waitHealthy(spec: ServerSpec, pid: number): Promise<void> {
  const deadline = Date.now() + spec.startTimeoutMs
  while (!(await healthyNow(spec))) {
    if (!isOurs(pid, spec.bin)) {
      throw new Error(
        `${spec.name} exited during start; ${logFile(spec.name)}:\n${logTail(spec.name)}`,
      )
    }
    if (Date.now() > deadline) {
      throw new Error(
        `${spec.name} not healthy after ${spec.startTimeoutMs} ms; see ${logFile(spec.name)}`,
      )
    }
    await sleep(100)
  }
}

// Reuses a healthy server of ours, restarts a sick one, and refuses to fight a stranger for
// the port (that would silently run the tests against someone else's server).
export async function ensureServer(spec: ServerSpec): Promise<Started> {
  const start = Date.now()
  const existing = runningPid(spec.name, spec.bin)
  if (existing !== undefined) {
    try {
      await waitHealthy({ ...spec, startTimeoutMs: 10_000 }, existing)
      return { pid: existing, reused: true, ms: Date.now() - start }
    } catch {
      await stopServer(spec.name, spec.bin)
    }
  } else if (await healthyNow(spec)) {
    const orphan = findByCommandLine(spec.bin, String(spec.port))
    if (orphan === undefined) {
      throw new Error(
        `port ${spec.port} answers like ${spec.name} but was not started by the stack`,
      )
    }
    adopt(spec.name, orphan)
    return { pid: orphan, reused: true, ms: Date.now() - start }
  }
  return { pid: await startServer(spec), reused: false, ms: Date.now() - start }
}

export async function startServer(spec: ServerSpec): Promise<number> {
  const pid = startDetached(spec.name, spec.command())
  await waitHealthy(spec, pid)
  return pid
}

export const stopSpec = (spec: ServerSpec, opts?: StopOptions) =>
  stopServer(spec.name, spec.bin, opts)
