import { spawn } from 'node:child_process'

/**
 * `serverless invoke local` of one function: the deployed bundle, run with
 * the process environment as the deployment would pass it. Returns the
 * handler's result (the last JSON document osls prints).
 */
export function invokeLocal(
  fn: 'reconcile' | 'watch',
  data: unknown,
  env: NodeJS.ProcessEnv,
): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      'npx',
      ['serverless', 'invoke', 'local', '-f', fn, '--data', JSON.stringify(data)],
      {
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    let out = ''
    let err = ''
    child.stdout.on('data', (c: Buffer) => (out += c.toString()))
    child.stderr.on('data', (c: Buffer) => (err += c.toString()))
    child.on('error', reject)
    child.on('close', (code) => {
      const start = out.lastIndexOf('\n{')
      const text = start >= 0 ? out.slice(start + 1) : out.trim().startsWith('{') ? out.trim() : ''
      try {
        resolve(JSON.parse(text) as Record<string, unknown>)
      } catch {
        reject(
          new Error(
            `serverless invoke local -f ${fn} exited ${code}:\n${err.slice(-2000)}${out.slice(-2000)}`,
          ),
        )
      }
    })
  })
}
