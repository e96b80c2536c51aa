import { readFileSync } from 'node:fs'

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

/** Prints one line per server; resolves false when any server the stack owns is down. */
export async function status(): Promise<boolean> {
  let allUp = true
  for (const spec of allServers) {
    const name = spec.name.padEnd(15)
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
