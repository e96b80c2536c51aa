import type { StackEnv } from '../stack/env-file.js'
import { ToxiproxyClient } from '../stack/toxiproxy.js'
import { rows } from './rows/index.js'
import { ScenarioContext, type RowResult, type Scenario } from './scenario.js'
import { kubeExternal, mongoExternal } from './stack.js'

export interface MatrixOptions {
  readonly quick?: boolean
  /** Only these rows (numbers). */
  readonly only?: readonly number[]
  /** Keep each row's database for inspection when it fails. */
  readonly keepFailed?: boolean
  readonly onRow?: (result: RowResult) => void
  readonly onStart?: (scenario: Scenario) => void
}

export function selectRows(opts: Pick<MatrixOptions, 'quick' | 'only'>): Scenario[] {
  return rows.filter(
    (s) =>
      (opts.only ? opts.only.includes(s.row) : true) && (opts.quick && !opts.only ? s.quick : true),
  )
}

function skipReason(scenario: Scenario, stack: StackEnv): string | undefined {
  for (const need of scenario.needs ?? []) {
    if (need === 'own-kube' && kubeExternal(stack))
      return 'needs the stack’s own kube-apiserver/etcd (TEST_KUBECONFIG brought an external cluster)'
    if (need === 'own-mongo' && mongoExternal(stack))
      return 'needs the stack’s own FerretDB (MONGODB_URI brought an external MongoDB)'
  }
  return undefined
}

function skipped(scenario: Scenario, reason: string): RowResult {
  return {
    row: scenario.row,
    fault: scenario.fault,
    status: 'skip',
    runs: 0,
    converged: null,
    lost: 0,
    stale: 0,
    extra: 0,
    retries: 0,
    timeToConvergeMs: null,
    durationMs: 0,
    failures: [],
    notes: [`skipped: ${reason}`],
  }
}

/** Runs the rows one at a time (they share the stack's servers and break them on purpose). */
export async function runMatrix(stack: StackEnv, opts: MatrixOptions = {}): Promise<RowResult[]> {
  const toxiproxy = new ToxiproxyClient(stack.TOXIPROXY_URL)
  const results: RowResult[] = []
  for (const scenario of selectRows(opts)) {
    opts.onStart?.(scenario)
    const reason = skipReason(scenario, stack)
    if (reason) {
      const result = skipped(scenario, reason)
      results.push(result)
      opts.onRow?.(result)
      continue
    }
    await toxiproxy.reset()
    const ctx = new ScenarioContext(scenario, stack)
    const started = Date.now()
    let error: unknown
    try {
      await scenario.run(ctx)
    } catch (caught) {
      error = caught
    }
    await toxiproxy.reset().catch(() => undefined)
    const result = ctx.result(Date.now() - started, error)
    await ctx.close(Boolean(opts.keepFailed) && result.status === 'fail')
    results.push(result)
    opts.onRow?.(result)
  }
  return results
}
