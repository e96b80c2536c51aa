import { existsSync, readFileSync, writeFileSync } from 'node:fs'

import { files } from './paths.js'

export type StackEnv = Record<string, string>

export function parseEnv(text: string): StackEnv {
  const env: StackEnv = {}
  for (const line of text.split('\n')) {
    const trimmed = line.trim()
    if (trimmed === '' || trimmed.startsWith('#')) continue
    const eq = trimmed.indexOf('=')
    if (eq > 0) env[trimmed.slice(0, eq)] = unquote(trimmed.slice(eq + 1))
  }
  return env
}

// Values with shell metacharacters (a URI's `&`) are single-quoted so the file can also be
// sourced by bash (`set -a; . .stack/env`) and read by `node --env-file`.
const quote = (value: string) => (/^[\w./:@,+=-]*$/.test(value) ? value : `'${value}'`)
const unquote = (value: string) =>
  value.length >= 2 && value.startsWith("'") && value.endsWith("'") ? value.slice(1, -1) : value

export function readEnvFile(path = files.env): StackEnv | undefined {
  return existsSync(path) ? parseEnv(readFileSync(path, 'utf8')) : undefined
}

export function writeEnvFile(env: StackEnv, path = files.env): void {
  const lines = Object.entries(env).map(([key, value]) => `${key}=${quote(value)}`)
  writeFileSync(path, `# written by test/stack/cli.ts up\n${lines.join('\n')}\n`, { mode: 0o600 })
}
