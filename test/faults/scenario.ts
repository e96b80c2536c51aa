import { randomBytes } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { KubeConfig } from '@kubernetes/client-node'
import { MongoClient, type Db } from 'mongodb'
import type { StackEnv } from '../stack/env-file.js'
import { divergence, isConverged, type Divergence, type Target } from './checker.js'
import { cleanNamespaces, seedNamespaces } from './cluster.js'
import { fatalRetries, invoke, retriesOf, type Invocation, type InvokeOptions } from './invoke.js'

/*
 * One row of the matrix: a scenario seeds, runs the functions through
 * scripts/invoke.ts while its fault happens, clears it, runs again when the
 * design says the next run heals, and asks the independent checker. The
 * context keeps the row's numbers: runs, retries seen in the logs, what the
 * checker found, and when the row first converged after the fault began.
 */

export type Need = 'own-kube' | 'own-mongo'

export interface Scenario {
  readonly row: number
  readonly fault: string
  /** In the --quick subset (CI via `npm test`). */
  readonly quick: boolean
  readonly needs?: readonly Need[]
  run(ctx: ScenarioContext): Promise<void>
}

export interface RowResult {
  readonly row: number
  readonly fault: string
  readonly status: 'pass' | 'fail' | 'skip'
  readonly runs: number
  /** null: a fatal row (nothing to converge) or skipped. */
  readonly converged: boolean | null
  readonly lost: number
  readonly stale: number
  readonly extra: number
  readonly retries: number
  /** From the fault's start to the end of the run after which the checker saw convergence. */
  readonly timeToConvergeMs: number | null
  readonly durationMs: number
  readonly failures: string[]
  readonly notes: string[]
}

/** Fast retries: the backoff sequence itself is unit-tested; here only that retries happen and heal. */
export const fastRetry = {
  RETRY_INITIAL_DELAY_MS: '50',
  RETRY_MAX_DELAY_MS: '400',
  BULK_WRITE_BATCH_DELAY_MS: '0',
}

const passThrough = ['PATH', 'HOME', 'LANG', 'TMPDIR', 'NODE_EXTRA_CA_CERTS', 'TZ']
const fromStack = [
  'AWS_REGION',
  'AWS_ENDPOINT_URL_SECRETS_MANAGER',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_EC2_METADATA_DISABLED',
  // The rows behind the HTTP fault proxy reach a plain http:// API server (test/stack/up.ts).
  'ALLOW_INSECURE_TLS',
]

export class ScenarioContext {
  readonly id = randomBytes(3).toString('hex')
  readonly cluster: string
  readonly dbName: string
  readonly prefix: string
  readonly kc: KubeConfig
  readonly invocations: Invocation[] = []
  readonly failures: string[] = []
  readonly notes: string[] = []
  /** A fatal row sets this: convergence is not its promise. */
  fatalRow = false
  private readonly cleanups: (() => Promise<unknown>)[] = []
  private faultAt: number | undefined
  private convergedAt: number | undefined
  private lastCheck: Divergence[] | undefined
  private client: MongoClient | undefined

  constructor(
    readonly scenario: Scenario,
    readonly stack: StackEnv,
  ) {
    this.cluster = `faults-${scenario.row}`
    this.dbName = `faults_${scenario.row}_${this.id}`
    this.prefix = `f${scenario.row}-${this.id}`
    this.kc = new KubeConfig()
    this.kc.loadFromFile(stack.KUBECONFIG!)
  }

  async db(): Promise<Db> {
    this.client ??= await new MongoClient(this.stack.MONGODB_URI!, {
      serverSelectionTimeoutMS: 30_000,
    }).connect()
    return this.client.db(this.dbName)
  }

  /** The child's environment: the stack's AWS endpoint, this row's database and cluster name, fast retries. */
  env(extra: Record<string, string | undefined> = {}): Record<string, string> {
    const env: Record<string, string> = {}
    for (const key of [...passThrough, ...fromStack]) {
      const value = key in this.stack ? this.stack[key] : process.env[key]
      if (value !== undefined) env[key] = value
    }
    Object.assign(env, {
      MONGODB_URI: this.stack.MONGODB_URI,
      KUBECONFIG: this.stack.KUBECONFIG,
      MONGODB_DB: this.dbName,
      CLUSTER_NAME: this.cluster,
      RUN_BUDGET_MS: '120000',
      ...fastRetry,
    })
    for (const [key, value] of Object.entries(extra)) {
      if (value === undefined) delete env[key]
      else env[key] = value
    }
    return env
  }

  async invoke(
    fn: 'reconcile' | 'watch',
    input: unknown,
    env: Record<string, string>,
    opts: Omit<InvokeOptions, 'env'> = {},
  ): Promise<Invocation> {
    const inv = await invoke(fn, input, { ...opts, env })
    this.invocations.push(inv)
    const dir = process.env.FAULTS_LOG_DIR
    if (dir) {
      mkdirSync(dir, { recursive: true })
      const file = join(dir, `row${this.scenario.row}-${this.invocations.length}-${fn}.log`)
      writeFileSync(
        file,
        `# ${fn} ${JSON.stringify(input)} exit ${inv.exitCode} ${inv.signal ?? ''}\n${inv.output}`,
      )
    }
    for (const line of fatalRetries(inv))
      this.fail(`${fn} retried a fatal error (${line.error?.reason}): ${line.message}`)
    const password = /\/\/[^:]+:([^@]+)@/.exec(this.stack.MONGODB_URI ?? '')?.[1]
    if (password && password.length >= 8 && inv.output.includes(password))
      this.fail(`${fn} printed the MongoDB password`)
    return inv
  }

  /** The fault begins now: time to converge counts from here. */
  faultStarts(): void {
    this.faultAt ??= Date.now()
  }

  /** Runs the checker; records the result and, the first time all targets agree, the time to converge. */
  async check(targets: readonly Target[]): Promise<Divergence[]> {
    const db = await this.db()
    const results: Divergence[] = []
    for (const target of targets) results.push(await divergence(this.kc, db, this.cluster, target))
    this.lastCheck = results
    if (!results.every(isConverged)) this.convergedAt = undefined
    else this.convergedAt ??= this.invocations.at(-1)?.endedAt ?? Date.now()
    return results
  }

  /** The final verdict on convergence: fails the row with the checker's findings. */
  async expectConverged(targets: readonly Target[]): Promise<void> {
    const results = await this.check(targets)
    for (const d of results) {
      if (isConverged(d)) continue
      this.fail(
        `${d.resource} diverged: live ${d.live}, stored ${d.stored}, lost ${d.lost.length}, ` +
          `stale ${d.stale.length}, extra ${d.extra.length}, malformed ${d.malformed.length}, ` +
          `secret leaks ${d.secretLeaks.length}${d.secretLeaks[0] ? ` (${d.secretLeaks[0]})` : ''}`,
      )
    }
  }

  expect(condition: unknown, message: string): boolean {
    if (!condition) this.fail(message)
    return Boolean(condition)
  }

  fail(message: string): void {
    this.failures.push(message)
  }

  note(message: string): void {
    this.notes.push(message)
  }

  defer(cleanup: () => Promise<unknown>): void {
    this.cleanups.push(cleanup)
  }

  /** Seeds `objects` of the four kinds into fresh namespaces, removed again when the row ends. */
  async seed(objects: number, perNamespace = 100): Promise<string[]> {
    const namespaces = await seedNamespaces(this.kc, this.prefix, objects, perNamespace)
    this.defer(() => cleanNamespaces(this.kc, namespaces))
    return namespaces
  }

  retries(): number {
    return this.invocations.reduce((n, inv) => n + retriesOf(inv).length, 0)
  }

  async close(keepDb: boolean): Promise<void> {
    for (const cleanup of this.cleanups.reverse()) {
      await cleanup().catch((error: unknown) => this.note(`cleanup: ${String(error)}`))
    }
    if (this.client) {
      if (!keepDb)
        await this.client
          .db(this.dbName)
          .dropDatabase()
          .catch(() => undefined)
      await this.client.close()
    }
  }

  result(durationMs: number, error?: unknown): RowResult {
    const failures = [...this.failures]
    if (error !== undefined)
      failures.push(
        `scenario error: ${error instanceof Error ? (error.stack ?? error.message) : JSON.stringify(error)}`,
      )
    const last = this.lastCheck ?? []
    const sum = (f: (d: Divergence) => number) => last.reduce((n, d) => n + f(d), 0)
    const converged = this.fatalRow ? null : this.lastCheck !== undefined && last.every(isConverged)
    return {
      row: this.scenario.row,
      fault: this.scenario.fault,
      status: failures.length === 0 ? 'pass' : 'fail',
      runs: this.invocations.length,
      converged,
      lost: sum((d) => d.lost.length),
      stale: sum((d) => d.stale.length),
      extra: sum((d) => d.extra.length),
      retries: this.retries(),
      timeToConvergeMs:
        converged && this.convergedAt !== undefined
          ? Math.max(0, this.convergedAt - (this.faultAt ?? this.invocations[0]?.startedAt ?? 0))
          : null,
      durationMs,
      failures,
      notes: [...this.notes],
    }
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** What an invocation's result says about one resource. */
export function statusOf(inv: Invocation, resource: string): string | undefined {
  return inv.result?.resources.find((r) => r.resource === resource)?.status
}

export function errorOf(inv: Invocation, resource: string): string | undefined {
  return inv.result?.resources.find((r) => r.resource === resource)?.error
}

export const eventsOf = (inv: Invocation, event: string) =>
  inv.logs.filter((l) => l.event === event)
