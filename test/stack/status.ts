import { readFileSync } from 'node:fs'

import { extraClusterSpecs, knownExtraClusters } from './clusters.js'
import { runningPid } from './proc.js'
import { allServers } from './servers/all.js'

function rssMb(pid: number): string {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return match?.[1] ? `${Math.round(Number(match[1]) / 1024)} MB` : '?'
  } catch {
    return '?'
  }
}

const external: Record<string, string | undefined> = {
  etcd: process.env.TEST_KUBECONFIG,
  'kube-apiserver': process.env.TEST_KUBECONFIG,
  ferretdb: process.env.MONGODB_URI,
}

/**
 * Prints one line per server, the extra clusters' API servers after the first; resolves false
 * when any server the stack owns (or a cluster .stack/env promises) is down.
 */
export async function status(): Promise<boolean> {
  let allUp = true
  const [first, ...rest] = allServers
  const extras = process.env.TEST_KUBECONFIG ? [] : extraClusterSpecs(knownExtraClusters())
  const specs = first ? [first, ...extras, ...rest] : allServers
  for (const spec of specs) {
    const name = spec.name.padEnd(18)
    if (external[spec.name]) {
      console.log(`${name} external   (not managed: user override)`)
      continue
    }
    const pid = runningPid(spec.name, spec.bin)
    const healthy = pid !== undefined && (await spec.healthy().catch(() => false))
    allUp &&= healthy
    const state = healthy ? 'healthy  ' : pid === undefined ? 'down     ' : 'unhealthy'
    const detail = pid === undefined ? '' : ` pid ${pid} rss ${rssMb(pid)}`
    console.log(`${name} ${state}  port ${spec.port}${detail}`)
  }
  return allUp
}
