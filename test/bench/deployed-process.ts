import { readFileSync } from 'node:fs'

/*
 * The sync child runs as the reconcile function does once deployed, as far as
 * memory goes: bundled with serverless.yml's esbuild settings, started with
 * its NODE_OPTIONS (if it sets any), and under the V8
 * heap limits the Lambda Node.js runtime derives from the function's memory.
 * The runtime's bootstrap gives a tenth of the memory to the young generation
 * (each semi-space half of that), the rest to the old generation, and adds
 * --expose-gc. Without those limits V8 sizes its heap from the machine's RAM,
 * lets the old generation grow to about four times what survives a full
 * collection, and the bench would measure a process no Lambda runs.
 * Everything is read from serverless.yml, so the bench follows its changes.
 */

const serverlessYml = new URL('../../serverless.yml', import.meta.url)
const read = () => readFileSync(serverlessYml, 'utf8')

function line(yml: string, key: string, indent: number): string {
  const match = new RegExp(`^ {${indent}}${key}: (.+)$`, 'm').exec(yml)
  if (!match) throw new Error(`serverless.yml: ${key} not found`)
  return match[1]!.trim()
}

/** The reconcile function's memory as deployed by default (params.default.reconcileMemory). */
export function deployedReconcileMemoryMb(yml = read()): number {
  const value = Number(line(yml, 'reconcileMemory', 4))
  if (!Number.isInteger(value)) throw new Error('serverless.yml: reconcileMemory is not in MB')
  return value
}

/** provider.environment.NODE_OPTIONS, as flags (none when it is not set). */
export function deployedNodeOptions(yml = read()): string[] {
  const match = /^ {4}NODE_OPTIONS: (.+)$/m.exec(yml)
  return match ? match[1]!.trim().split(/\s+/) : []
}

/** The custom.esbuild settings that change what the bundle holds in memory. */
export function deployedBundleSettings(yml = read()): {
  minify: boolean
  sourcemap: boolean
  sourcesContent: boolean
} {
  const flag = (key: string, fallback: boolean) => {
    const match = new RegExp(`^ {4}${key}: (true|false)$`, 'm').exec(yml)
    return match ? match[1] === 'true' : fallback
  }
  // esbuild's own defaults where serverless.yml says nothing.
  return {
    minify: flag('minify', false),
    sourcemap: flag('sourcemap', false),
    sourcesContent: flag('sourcesContent', true),
  }
}

/** Node's flags under the Lambda runtime for a function of `memoryMb` (integer MB, as `expr` divides). */
export function lambdaNodeFlags(memoryMb: number): string[] {
  const young = Math.floor(memoryMb / 10)
  return [
    '--expose-gc',
    `--max-semi-space-size=${Math.floor(young / 2)}`,
    `--max-old-space-size=${memoryMb - young}`,
  ]
}
