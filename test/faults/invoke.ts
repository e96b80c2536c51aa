import { spawn, type ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import { repoRoot } from '../stack/paths.js'

/*
 * Runs a function the way users run it locally (scripts/invoke.ts: the same
 * middy handler, middleware and Secrets Manager wiring as deployed) in a child
 * process, so every invocation is a real cold start with the scenario's own
 * environment, can be SIGKILLed, and leaves its JSON log lines to be read.
 */

export interface LogLine {
  readonly level?: string
  readonly timestamp?: string
  readonly event?: string
  readonly message?: string
  readonly error?: { name?: string; message?: string; reason?: string; code?: unknown }
  readonly [key: string]: unknown
}

/** One resource's line of a reconcile or watch result (docs/design.md#invocation-contract). */
export interface ResourceReport {
  readonly resource: string
  readonly status: string
  readonly error?: string
  readonly listed?: number
  readonly inserted?: number
  readonly updated?: number
  readonly deleted?: number
  readonly unchanged?: number
  readonly pages?: number
  readonly events?: number
  readonly relists?: number
  readonly relistNeeded?: boolean
}

export interface InvocationResult {
  readonly ok: boolean
  readonly resources: readonly ResourceReport[]
}

export interface Invocation {
  readonly fn: 'reconcile' | 'watch'
  readonly input: unknown
  /** Exit code: 0 ok, 2 the run reported failures, 1 the invocation failed; null when killed. */
  readonly exitCode: number | null
  readonly signal: NodeJS.Signals | null
  readonly result?: InvocationResult
  readonly logs: LogLine[]
  /** Lines that are not JSON (the "<fn> failed: ..." line of scripts/invoke.ts). */
  readonly text: string[]
  readonly output: string
  readonly startedAt: number
  readonly endedAt: number
  readonly durationMs: number
}

export interface InvokeOptions {
  readonly env: Record<string, string>
  /** Killed with SIGKILL after this long (a hung invocation fails the row, not the matrix). */
  readonly timeoutMs?: number
  /** Called for every log line as it arrives (fault timing, SIGKILL at a chosen moment). */
  readonly onLog?: (line: LogLine, child: ChildProcess) => void
}

const invokeScript = join(repoRoot, 'scripts', 'invoke.ts')

function parseLine(line: string): { log?: LogLine; result?: InvocationResult } | undefined {
  if (!line.startsWith('{')) return undefined
  try {
    const value = JSON.parse(line) as Record<string, unknown>
    if (typeof value.level === 'string') return { log: value }
    if (typeof value.ok === 'boolean') return { result: value as unknown as InvocationResult }
  } catch {
    return undefined
  }
  return undefined
}

export function invoke(
  fn: 'reconcile' | 'watch',
  input: unknown,
  options: InvokeOptions,
): Promise<Invocation> {
  const startedAt = Date.now()
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', invokeScript, fn, JSON.stringify(input)],
    { cwd: repoRoot, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] },
  )
  const logs: LogLine[] = []
  const text: string[] = []
  let result: InvocationResult | undefined
  let output = ''
  const reader = () => {
    let rest = ''
    return (chunk: Buffer) => {
      const data = rest + chunk.toString('utf8')
      output += chunk.toString('utf8')
      const lines = data.split('\n')
      rest = lines.pop() ?? ''
      for (const line of lines) handle(line)
    }
  }
  const handle = (raw: string) => {
    const line = raw.trim()
    if (line === '') return
    const parsed = parseLine(line)
    if (parsed?.log) {
      logs.push(parsed.log)
      options.onLog?.(parsed.log, child)
    } else if (parsed?.result) result = parsed.result
    else text.push(line)
  }
  child.stdout.on('data', reader())
  child.stderr.on('data', reader())
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 180_000)
  return new Promise((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (exitCode, signal) => {
      clearTimeout(timer)
      const endedAt = Date.now()
      resolve({
        fn,
        input,
        exitCode,
        signal,
        ...(result ? { result } : {}),
        logs,
        text,
        output,
        startedAt,
        endedAt,
        durationMs: endedAt - startedAt,
      })
    })
  })
}

/** Log events that mean "an operation failed and is tried again". */
export const retryEvents = new Set([
  'retry',
  'watch.reconnecting',
  'list.restart',
  'list.inconsistent-continue',
  'mongo.reconnecting',
])

/**
 * A bulk chunk's retry is logged by the writer itself (retryWithBackoff's onRetry), once, as
 * a `chunk.failed` line with the error; the same event with `final: true` is a chunk given up.
 */
const isChunkRetry = (l: LogLine) => l.event === 'chunk.failed' && l.final !== true

export const retriesOf = (inv: Invocation) =>
  inv.logs.filter((l) => (l.event !== undefined && retryEvents.has(l.event)) || isChunkRetry(l))

/** Reasons classify() calls fatal: a `retry` line with one of these is a retry that must not happen. */
export const fatalReason = /^(http-(400|401|403|404|422)|mongo-auth|mongo-18|mongo-13|config)$/

export const fatalRetries = (inv: Invocation) =>
  inv.logs.filter(
    (l) => (l.event === 'retry' || isChunkRetry(l)) && fatalReason.test(l.error?.reason ?? ''),
  )
