import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'

import { build, type BuildOptions } from 'esbuild'
import yaml from 'js-yaml'

/*
 * The cold start of each function's bundle, before any work (issue 18,
 * docs/scaling.md#cold-start): bundles every function of serverless.yml with
 * esbuild under exactly the options of its `custom.esbuild` block, then for
 * each bundle starts fresh Node processes that only load it, and reports the
 * bundle's bytes, the load time (median of --runs) and the RSS after load.
 * For a function that reaches a cluster, `firstKubeconfigClient` adds what
 * its first task pays when the cluster's credentials are a kubeconfig: the
 * Kubernetes client library is evaluated then (lib/kube/open-client.ts), not
 * at load, and never for an EKS cluster.
 *
 * Modules the block leaves out of the bundle (`exclude`, `external`: the AWS
 * SDK the Lambda nodejs22.x runtime provides) are resolved the way the
 * runtime resolves them, through NODE_PATH (the runtime's is
 * /opt/...:/var/runtime/node_modules:...), here pointing at this repository's
 * node_modules: their load counts, as it does on Lambda.
 *
 *   bash scripts/node22.sh node --import tsx test/bench/cold-start.ts [--esbuild-from FILE] [--runs 5]
 *     [--functions reconcileWorker,watchWorker] [--before DIR:FUNCTION]
 *
 * --esbuild-from takes the `custom.esbuild` block of another serverless.yml
 * (e.g. the previous version's, `git show HEAD:serverless.yml > /tmp/before.yml`)
 * for before/after figures; the functions are always this serverless.yml's.
 * --before DIR:FUNCTION compares with a function of another tree, e.g. the
 * release before fleets (docs/scaling.md#cold-start):
 *   mkdir -p /tmp/before && git archive 6a6a3de | tar -x -C /tmp/before
 *   ln -s "$PWD/node_modules" /tmp/before/node_modules
 *   ... cold-start.ts --runs 9 --functions reconcileWorker,watchWorker --before /tmp/before:reconcile
 * Its loads alternate with each function's, and `ratio` gives now/before.
 * Prints one JSON object.
 */

const root = resolve(import.meta.dirname, '../..')

/** serverless-esbuild options that are not esbuild's (it strips them the same way). */
const PLUGIN_ONLY = [
  'exclude',
  'packager',
  'packagePath',
  'packagerOptions',
  'outputFileExtension',
  'concurrency',
  'zipConcurrency',
  'nativeZip',
  'keepOutputDirectory',
  'installExtraArgs',
  'nodeExternals',
]

interface Serverless {
  custom: { esbuild: Record<string, unknown> }
  functions: Record<string, { handler: string }>
}

/** The esbuild options serverless-esbuild derives from the block: `exclude` becomes external too. */
export function esbuildOptionsOf(block: Record<string, unknown>): BuildOptions {
  const asList = (v: unknown) =>
    Array.isArray(v) ? v.map(String) : typeof v === 'string' ? [v] : []
  const exclude = asList(block.exclude)
  const options: Record<string, unknown> = { ...block }
  for (const key of PLUGIN_ONLY) delete options[key]
  const extension =
    typeof block.outputFileExtension === 'string' ? block.outputFileExtension : '.js'
  return {
    ...(options as BuildOptions),
    external: [...asList(block.external), ...(exclude.includes('*') ? [] : exclude)],
    ...(extension !== '.js' ? { outExtension: { '.js': extension } } : {}),
  }
}

function readServerless(path: string): Serverless {
  // serverless.yml's CloudFormation tags (!Ref...) are not used in the parts read here.
  return yaml.load(readFileSync(path, 'utf8')) as Serverless
}

interface Load {
  readonly loadMs: number
  /** CPU time of the load (user + system): steadier than wall time on a busy machine. */
  readonly cpuMs: number
  readonly rssMb: number
}

/** A kubeconfig as a secret holds one: a token, no file, no program. */
const KUBECONFIG_TEXT = JSON.stringify({
  'current-context': 'bench',
  clusters: [{ name: 'c', cluster: { server: 'https://127.0.0.1:6443' } }],
  users: [{ name: 'u', user: { token: 'cold-start-bench-token' } }],
  contexts: [{ name: 'bench', context: { cluster: 'c', user: 'u' } }],
})

/** After the load, the first kubeconfig client (the bundle exports openKubeClient for it). */
const FIRST_KUBECONFIG_CLIENT = `
    await bundle.openKubeClient(
      { kind: 'text', text: ${JSON.stringify(KUBECONFIG_TEXT)}, secretId: 'cold-start' },
      { requestTimeoutMs: 1000, guard: (f) => f() },
    )`

/**
 * One fresh Node that loads the bundle and nothing else (no bundle: an empty
 * Node, for reference); with `then`, the figures of that code, run after the load.
 */
function loadOnce(bundle?: string, then?: string): Load & { then?: Load } {
  const script = `
    const figures = (t0, c0) => {
      const c = process.cpuUsage(c0)
      return { loadMs: performance.now() - t0, cpuMs: (c.user + c.system) / 1000, rssMb: process.memoryUsage().rss / 1048576 }
    }
    ;(async () => {
      const t0 = performance.now()
      const c0 = process.cpuUsage()
      const bundle = ${bundle ? `require(${JSON.stringify(bundle)})` : '{}'}
      const load = figures(t0, c0)
      if (${JSON.stringify(then !== undefined)}) {
        const t1 = performance.now()
        const c1 = process.cpuUsage()
        ${then ?? ''}
        load.then = figures(t1, c1)
      }
      process.stdout.write(JSON.stringify(load))
      process.exit(0)
    })()`
  const child = spawnSync(process.execPath, ['-e', script], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, NODE_PATH: join(root, 'node_modules'), AWS_REGION: 'us-east-1' },
  })
  if (child.status !== 0) throw new Error(`loading ${bundle ?? 'nothing'} failed: ${child.stderr}`)
  return JSON.parse(child.stdout) as Load & { then?: Load }
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}
const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits

/** A function's bundle: this repository's, or (--before) another tree's with its own options. */
async function bundle(dir: string, handler: string, options: BuildOptions, outfile: string) {
  const entry = join(dir, `${handler.slice(0, handler.lastIndexOf('.'))}.ts`)
  if (!existsSync(entry)) return undefined
  const built = await build({
    ...options,
    entryPoints: [entry],
    outfile,
    logLevel: 'error',
    absWorkingDir: dir,
    metafile: true,
  })
  return { entry, outfile, usesOpenClient: OPEN_CLIENT in built.metafile.inputs }
}

type Loads = ReturnType<typeof loadOnce>[]
const figuresOf = (outfile: string, loads: Loads) => ({
  bundleBytes: statSync(outfile).size,
  loadMs: round(median(loads.map((l) => l.loadMs))),
  cpuMs: round(median(loads.map((l) => l.cpuMs))),
  rssMb: round(median(loads.map((l) => l.rssMb))),
})

interface Before {
  readonly name: string
  readonly outfile: string
}

async function measure(
  name: string,
  handler: string,
  options: BuildOptions,
  outdir: string,
  runs: number,
  before?: Before,
) {
  const extension = options.outExtension?.['.js'] ?? '.js'
  const built = await bundle(root, handler, options, join(outdir, `${name}${extension}`))
  if (!built) return undefined
  // With --before, its loads alternate with this function's: a busy machine slows both alike.
  const loads: Loads = []
  const beforeLoads: Loads = []
  for (let i = 0; i < runs; i++) {
    if (before) beforeLoads.push(loadOnce(before.outfile))
    loads.push(loadOnce(built.outfile))
  }
  const figures = figuresOf(built.outfile, loads)
  const first = built.usesOpenClient
    ? { firstKubeconfigClient: await firstKubeconfigClient(built.entry, options, outdir, runs) }
    : {}
  if (!before) return { ...figures, ...first }
  const was = figuresOf(before.outfile, beforeLoads)
  return {
    ...figures,
    ...first,
    before: { function: before.name, ...was },
    /** now / before; RSS: what the load adds to an empty Node's. */
    ratio: {
      loadMs: round(figures.loadMs / was.loadMs, 2),
      cpuMs: round(figures.cpuMs / was.cpuMs, 2),
      addedRssMb: round((figures.rssMb - emptyRssMb) / (was.rssMb - emptyRssMb), 2),
    },
  }
}

const OPEN_CLIENT = 'lib/kube/open-client.ts'

/**
 * What the first task that reads a kubeconfig adds to the cold start: the
 * function's bundle, exporting openKubeClient too, loaded, then one client
 * made from a kubeconfig secret's text (no request sent). @kubernetes/client-node
 * is evaluated then, not at load; an EKS cluster never evaluates it. `ms` and
 * `cpuMs` are that client's own; `rssMb` is the RSS after it.
 */
async function firstKubeconfigClient(
  entry: string,
  options: BuildOptions,
  outdir: string,
  runs: number,
) {
  const outfile = join(outdir, `first-kubeconfig-client${options.outExtension?.['.js'] ?? '.js'}`)
  const contents = `export * from ${JSON.stringify(entry)}\nexport { openKubeClient } from ${JSON.stringify(join(root, OPEN_CLIENT))}\n`
  await build({
    ...options,
    stdin: { contents, resolveDir: root, loader: 'ts', sourcefile: 'cold-start-entry.ts' },
    outfile,
    logLevel: 'error',
    absWorkingDir: root,
  })
  const after = Array.from({ length: runs }, () => loadOnce(outfile, FIRST_KUBECONFIG_CLIENT).then!)
  return {
    ms: round(median(after.map((l) => l.loadMs))),
    cpuMs: round(median(after.map((l) => l.cpuMs))),
    rssMb: round(median(after.map((l) => l.rssMb))),
  }
}

let emptyRssMb = 0

/**
 * --before DIR:FUNCTION: that function of another tree (e.g. an earlier
 * release's `git archive`, with a node_modules), bundled with its own
 * serverless.yml's options, loaded alternately with each function measured.
 */
async function bundleBefore(spec: string, outdir: string): Promise<Before> {
  const at = spec.lastIndexOf(':')
  if (at < 0) throw new Error(`--before ${spec}: expected DIR:FUNCTION`)
  const [dir, name] = [resolve(spec.slice(0, at)), spec.slice(at + 1)]
  const other = readServerless(join(dir, 'serverless.yml'))
  const fn = other.functions[name]
  if (!fn) throw new Error(`--before ${spec}: no function ${name} in ${dir}/serverless.yml`)
  const options = esbuildOptionsOf(other.custom.esbuild)
  const extension = options.outExtension?.['.js'] ?? '.js'
  const built = await bundle(dir, fn.handler, options, join(outdir, `before-${name}${extension}`))
  if (!built) throw new Error(`--before ${spec}: no ${fn.handler} source`)
  return { name, outfile: built.outfile }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'esbuild-from': { type: 'string', default: 'serverless.yml' },
      runs: { type: 'string', default: '5' },
      functions: { type: 'string' },
      before: { type: 'string' },
    },
  })
  const serverless = readServerless(join(root, 'serverless.yml'))
  const esbuildFrom = values['esbuild-from']
  const options = esbuildOptionsOf(readServerless(resolve(root, esbuildFrom)).custom.esbuild)
  const outdir = mkdtempSync(join(tmpdir(), 'kms-cold-start-'))
  const baseline = loadOnce()
  emptyRssMb = baseline.rssMb
  try {
    const before = values.before ? await bundleBefore(values.before, outdir) : undefined
    const functions: Record<string, unknown> = {}
    const only = values.functions?.split(',')
    for (const [name, fn] of Object.entries(serverless.functions)) {
      if (only && !only.includes(name)) continue
      const runs = Number(values.runs)
      const result = await measure(name, fn.handler, options, outdir, runs, before)
      if (result) functions[name] = result
    }
    const report = {
      esbuildFrom,
      node: process.version,
      runs: Number(values.runs),
      external: options.external,
      emptyNode: { rssMb: round(baseline.rssMb) },
      functions,
    }
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`)
  } finally {
    rmSync(outdir, { recursive: true, force: true })
  }
}

await main()
