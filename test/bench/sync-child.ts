import { fork, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

import { build } from 'esbuild'

import type { ChildCommand, ChildReply, ChildSetup } from './child-protocol.js'
import { deployedBundleSettings, deployedNodeOptions } from './deployed-process.js'
import type { MemoryPeak } from './memory-sampler.js'

type Reconciled = Extract<ChildReply, { type: 'reconciled' }>
type Watched = Extract<ChildReply, { type: 'watched' }>

/** run.ts's handle on one child-sync.ts process. */
export interface SyncChild {
  /** A reconcile (`{}`), or a manual resync of these namespaces. */
  reconcile(namespaces?: readonly string[]): Promise<Reconciled>
  watch(windowSeconds: number): Promise<Watched>
  /** Ends the child; resolves with the peak memory it sampled over its life. */
  exit(): Promise<MemoryPeak>
}

const childSource = fileURLToPath(new URL('./child-sync.ts', import.meta.url))

/**
 * The child runs the way the deployed functions do: one esbuild bundle with
 * the settings of serverless.yml (custom.esbuild), on plain node with
 * serverless.yml's NODE_OPTIONS (none at present). Under tsx the TypeScript
 * loader and its compiled sources would count in the memory we measure (about
 * 100 MB of RSS here) and no Lambda carries them.
 */
async function bundleChild(): Promise<{ script: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'kms-bench-child-'))
  const script = join(dir, 'child-sync.cjs')
  await build({
    entryPoints: [childSource],
    outfile: script,
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    ...deployedBundleSettings(),
    logLevel: 'error',
  })
  return { script, remove: () => rm(dir, { recursive: true, force: true }) }
}

export async function startSyncChild(
  setup: ChildSetup,
  options: {
    cpuProfileDir?: string
    /** Lambda's heap limits (deployed-process.ts); serverless.yml's NODE_OPTIONS are always added. */
    nodeFlags?: readonly string[]
  } = {},
): Promise<SyncChild> {
  const bundle = await bundleChild()
  const execArgv: string[] = [...(options.nodeFlags ?? []), ...deployedNodeOptions()]
  if (options.cpuProfileDir) execArgv.push('--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDir}`)
  const child: ChildProcess = fork(bundle.script, [JSON.stringify(setup)], {
    execArgv,
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  })
  child.once('exit', () => void bundle.remove())
  let waiting: { resolve: (r: ChildReply) => void; reject: (e: Error) => void } | undefined
  const next = () =>
    new Promise<ChildReply>((resolve, reject) => {
      waiting = { resolve, reject }
    })
  child.on('message', (reply: ChildReply) => {
    const w = waiting
    waiting = undefined
    if (!w) return
    if (reply.type === 'error') w.reject(new Error(`sync child: ${reply.message}`))
    else w.resolve(reply)
  })
  child.on('exit', (code) => {
    waiting?.reject(new Error(`sync child exited with code ${code}`))
    waiting = undefined
  })
  const ready = await next()
  if (ready.type !== 'ready') throw new Error(`sync child: unexpected ${ready.type}`)

  let id = 0
  const ask = async <T extends ChildReply>(command: ChildCommand): Promise<T> => {
    const reply = next()
    child.send(command)
    return (await reply) as T
  }
  return {
    reconcile: (namespaces) =>
      ask<Reconciled>({ type: 'reconcile', id: ++id, ...(namespaces ? { namespaces } : {}) }),
    watch: (windowSeconds) => ask<Watched>({ type: 'watch', id: ++id, windowSeconds }),
    async exit() {
      const reply = await ask<Extract<ChildReply, { type: 'memory' }>>({ type: 'exit' })
      await new Promise<void>((resolve) => {
        if (child.exitCode !== null) resolve()
        else child.once('exit', () => resolve())
      })
      return reply.memory
    },
  }
}
