import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

import { stackDir } from './paths.js'
import { sleep } from './wait.js'

const lockDir = join(stackDir, 'lock')
let depth = 0

function ownerAlive(): boolean {
  try {
    const pid = Number(readFileSync(join(lockDir, 'owner'), 'utf8'))
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

// Serialises starts and stops across processes (two test runs, a test and `stack:down`): without
// it two racing starts spawn two servers, one wins the port and the pid file names the loser.
// mkdir is atomic; a lock whose owner died is taken over. Re-entrant within one process. The
// long default wait covers a cold build (build.sh runs under the lock) by another process.
export async function withStackLock<T>(fn: () => Promise<T>, timeoutMs = 30 * 60_000): Promise<T> {
  if (depth > 0) {
    depth++
    try {
      return await fn()
    } finally {
      depth--
    }
  }
  mkdirSync(stackDir, { recursive: true })
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      mkdirSync(lockDir)
      writeFileSync(join(lockDir, 'owner'), String(process.pid))
      break
    } catch {
      if (!ownerAlive()) {
        await sleep(200) // the owner may be between mkdir and writing its pid
        if (!ownerAlive()) rmSync(lockDir, { recursive: true, force: true })
        continue
      }
      if (Date.now() > deadline) throw new Error(`stack lock ${lockDir} held too long`)
      await sleep(100)
    }
  }
  depth = 1
  try {
    return await fn()
  } finally {
    depth = 0
    rmSync(lockDir, { recursive: true, force: true })
  }
}
