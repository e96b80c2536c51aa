import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'

/*
 * The workers' cold start is cold-start.ts's figure (each function's bundle
 * loaded by fresh processes): run as its own command, its one JSON object is
 * embedded as it is (it prints one pretty-printed object). Absent or failing, the section says why instead.
 */

const root = resolve(import.meta.dirname, '../..')
const script = 'test/bench/cold-start.ts'
const TIMEOUT_MS = 300_000

export async function coldStartFigures(log: (line: string) => void): Promise<unknown> {
  if (!existsSync(resolve(root, script))) return { error: `${script} does not exist` }
  log(`fleet cold start: bash scripts/node22.sh node --import tsx ${script}`)
  return new Promise((done) => {
    const child = spawn('bash', ['scripts/node22.sh', 'node', '--import', 'tsx', script], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    let err = ''
    const timer = setTimeout(() => child.kill('SIGTERM'), TIMEOUT_MS)
    child.stdout.on('data', (c: Buffer) => (out += c.toString()))
    child.stderr.on('data', (c: Buffer) => (err += c.toString()))
    child.on('close', (code) => {
      clearTimeout(timer)
      // One JSON object, pretty-printed: from the last line that opens one at column 0.
      const text = out.trim()
      const start = text.startsWith('{') ? 0 : text.lastIndexOf('\n{') + 1
      try {
        done(JSON.parse(text.slice(start)))
      } catch {
        done({ error: `${script} exited ${code} without a JSON object`, stderr: err.slice(-1500) })
      }
    })
  })
}
