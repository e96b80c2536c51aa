import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { repoRoot } from '../../stack/paths.js'

const run = promisify(execFile)

export interface ScriptRun {
  readonly code: number
  /** The last JSON line of stdout: the function's result. */
  readonly result: Record<string, unknown> | undefined
  /** Everything printed, logs included (for "no password" checks). */
  readonly output: string
  readonly durationMs: number
}

/** `npm run -s invoke -- <fn> [input]`: a cold process with exactly this environment. */
export async function invokeScript(
  fn: string,
  input: unknown,
  env: NodeJS.ProcessEnv,
): Promise<ScriptRun> {
  const started = Date.now()
  const args = [
    '--import',
    'tsx',
    join(repoRoot, 'scripts', 'invoke.ts'),
    fn,
    JSON.stringify(input),
  ]
  const done = await run(process.execPath, args, {
    cwd: repoRoot,
    env,
    maxBuffer: 64 * 1024 * 1024,
    timeout: 180_000,
  }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (e: { code?: number; stdout?: string; stderr?: string }) => ({
      code: typeof e.code === 'number' ? e.code : 1,
      stdout: e.stdout ?? '',
      stderr: e.stderr ?? '',
    }),
  )
  const last = done.stdout
    .split('\n')
    .filter((line) => line.startsWith('{') && !line.includes('"level"'))
    .pop()
  let result: Record<string, unknown> | undefined
  try {
    result = last === undefined ? undefined : (JSON.parse(last) as Record<string, unknown>)
  } catch {
    result = undefined
  }
  return {
    code: done.code,
    result,
    output: `${done.stdout}\n${done.stderr}`,
    durationMs: Date.now() - started,
  }
}
