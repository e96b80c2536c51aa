import type { StackEnv } from '../stack/env-file.js'
import { readEnvFile } from '../stack/env-file.js'
import { stackDir } from '../stack/paths.js'
import { up } from '../stack/up.js'

/*
 * The stack the matrix runs against: whatever KMS_STACK_DIR (+ KMS_PORT_OFFSET)
 * says, brought up when needed (`up` reuses a healthy stack in well under a
 * second). Its .stack/env is loaded into this process the way
 * test/stack/load-env.ts does for the integration tests.
 */

const userMayOverride = new Set(['MONGODB_URI'])

export async function ensureStack(opts: { quiet?: boolean } = {}): Promise<StackEnv> {
  const log = console.log
  if (opts.quiet) console.log = () => undefined
  try {
    await up()
  } finally {
    console.log = log
  }
  const env = readEnvFile()
  if (!env) throw new Error(`no env file in ${stackDir} after stack up`)
  for (const [key, value] of Object.entries(env)) {
    if (userMayOverride.has(key) && process.env[key]) continue
    process.env[key] = value
  }
  return { ...env, MONGODB_URI: process.env.MONGODB_URI ?? env.MONGODB_URI ?? '' }
}

export const kubeExternal = (env: StackEnv) => env.STACK_KUBE_EXTERNAL === '1'
export const mongoExternal = (env: StackEnv) => env.STACK_MONGO_EXTERNAL === '1'
