import { rmSync } from 'node:fs'

import { extraClusterSpecs, knownExtraClusters } from './clusters.js'
import { files } from './paths.js'
import { stopSpec } from './server-lifecycle.js'
import { allServers } from './servers/all.js'
import { withStackLock } from './stack-lock.js'

// The API servers go first so they do not spend their shutdown retrying a vanished etcd; the
// extra clusters' ones stop together.
export function down(): Promise<void> {
  return withStackLock(downLocked)
}

async function downLocked(): Promise<void> {
  const extras = extraClusterSpecs(knownExtraClusters())
  const stopped = await Promise.all(
    extras.map((spec) => stopSpec(spec, { timeoutMs: 15_000 }).then((pid) => ({ spec, pid }))),
  )
  for (const { spec, pid } of stopped) {
    console.log(`stack: ${spec.name} ${pid === undefined ? 'not running' : `stopped (pid ${pid})`}`)
  }
  for (const spec of allServers) {
    const pid = await stopSpec(spec, { timeoutMs: 15_000 })
    console.log(`stack: ${spec.name} ${pid === undefined ? 'not running' : `stopped (pid ${pid})`}`)
  }
  rmSync(files.env, { force: true })
}
