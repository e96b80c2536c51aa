import { rmSync } from 'node:fs'

import { files } from './paths.js'
import { stopSpec } from './server-lifecycle.js'
import { allServers } from './servers/all.js'
import { withStackLock } from './stack-lock.js'

// The API server goes first so it does not spend its shutdown retrying a vanished etcd.
export function down(): Promise<void> {
  return withStackLock(downLocked)
}

async function downLocked(): Promise<void> {
  for (const spec of allServers) {
    const pid = await stopSpec(spec, { timeoutMs: 15_000 })
    console.log(`stack: ${spec.name} ${pid === undefined ? 'not running' : `stopped (pid ${pid})`}`)
  }
  rmSync(files.env, { force: true })
}
