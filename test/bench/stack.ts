import type { StackEnv } from '../stack/env-file.js'
import { files } from '../stack/paths.js'
import { up } from '../stack/up.js'

/**
 * The stack that KMS_STACK_DIR (default .stack/) points at: `up` reuses every
 * healthy server (about 0.3 s) and starts what is down, then rewrites its env
 * file. Returns that environment.
 */
export async function ensureStack(log: (line: string) => void): Promise<StackEnv> {
  log(`stack: ${files.env}`)
  const env = await up()
  if (!env.MONGODB_URI || !env.KUBECONFIG) throw new Error('stack env lacks MONGODB_URI/KUBECONFIG')
  return env
}
