import { spawn } from 'node:child_process'
import {
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { basename } from 'node:path'

import { dirs, logFile, pidFile } from './paths.js'
import { sleep } from './wait.js'

export interface Command {
  bin: string
  args: string[]
  env?: Record<string, string>
}

export function readPid(server: string): number | undefined {
  const path = pidFile(server)
  if (!existsSync(path)) return undefined
  const pid = Number(readFileSync(path, 'utf8').trim())
  return Number.isInteger(pid) && pid > 0 ? pid : undefined
}

// A pid file can outlive its process and the pid be reused, so the command line must still
// name our binary before we call the process ours.
export function isOurs(pid: number, bin: string): boolean {
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const zombie = stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')
    return !zombie && cmdline.includes(basename(bin))
  } catch {
    return false
  }
}

export function runningPid(server: string, bin: string): number | undefined {
  const pid = readPid(server)
  return pid !== undefined && isOurs(pid, bin) ? pid : undefined
}

/**
 * Finds a live process running `bin` with `marker` (its port) on its command line: a server of
 * ours whose pid file was lost, which we adopt rather than fight for the port.
 */
export function findByCommandLine(bin: string, marker: string): number | undefined {
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry)
    if (!Number.isInteger(pid)) continue
    try {
      const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')
      if (args.some((a) => a === bin) && args.some((a) => a.includes(marker)) && isOurs(pid, bin)) {
        return pid
      }
    } catch {
      // exited while we looked
    }
  }
  return undefined
}

export function adopt(server: string, pid: number): void {
  mkdirSync(dirs.pids, { recursive: true })
  writeFileSync(pidFile(server), `${pid}\n`)
}

export function startDetached(server: string, cmd: Command): number {
  mkdirSync(dirs.pids, { recursive: true })
  mkdirSync(dirs.logs, { recursive: true })
  const log = openSync(logFile(server), 'a')
  // Detached: the server outlives `stack:up` and gets its own process group, so a test
  // runner's Ctrl-C does not take the stack down with it.
  const child = spawn(cmd.bin, cmd.args, {
    detached: true,
    stdio: ['ignore', log, log],
    env: { ...process.env, ...cmd.env },
  })
  if (child.pid === undefined) throw new Error(`${server}: could not start ${cmd.bin}`)
  child.unref()
  writeFileSync(pidFile(server), `${child.pid}\n`)
  return child.pid
}

export interface StopOptions {
  signal?: NodeJS.Signals
  timeoutMs?: number
}

export async function stopServer(server: string, bin: string, opts: StopOptions = {}) {
  const pid = runningPid(server, bin)
  if (pid !== undefined) {
    await killAndWait(pid, bin, opts)
  }
  rmSync(pidFile(server), { force: true })
  return pid
}

async function killAndWait(pid: number, bin: string, opts: StopOptions) {
  const signal = opts.signal ?? 'SIGTERM'
  const deadline = Date.now() + (opts.timeoutMs ?? 10_000)
  signalGroup(pid, signal)
  while (isOurs(pid, bin)) {
    if (Date.now() > deadline) {
      signalGroup(pid, 'SIGKILL')
      await sleep(100)
      if (!isOurs(pid, bin)) return
      throw new Error(`pid ${pid} (${basename(bin)}) survived SIGKILL`)
    }
    await sleep(50)
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals) {
  try {
    process.kill(-pid, signal)
  } catch {
    try {
      process.kill(pid, signal)
    } catch {
      // already gone
    }
  }
}
