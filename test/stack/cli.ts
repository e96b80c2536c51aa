import { parseArgs } from 'node:util'

import { parseClusterCount } from './clusters.js'
import { down } from './down.js'
import { readEnvFile } from './env-file.js'
import { runOnSecondStack, secondStackExists } from './second-stack.js'
import { seed } from './seed.js'
import { status } from './status.js'
import { up } from './up.js'

const usage = `usage: cli.ts up [--clusters N | --min-clusters N] | down | status | seed --objects N [--namespace-prefix p] [--concurrency C] [--kubeconfig path]`

async function runSeed(args: string[]) {
  const { values } = parseArgs({
    args,
    options: {
      objects: { type: 'string', default: '100' },
      'namespace-prefix': { type: 'string', default: 'seed' },
      concurrency: { type: 'string', default: '16' },
      kubeconfig: { type: 'string' },
    },
  })
  const objects = Number(values.objects)
  const concurrency = Number(values.concurrency)
  if (!Number.isInteger(objects) || objects < 0)
    throw new Error(`--objects: not a count: ${values.objects}`)
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new Error(`--concurrency: ${values.concurrency}`)
  const env = readEnvFile()
  const kubeconfig = values.kubeconfig ?? env?.KUBECONFIG
  if (!kubeconfig) throw new Error('no .stack/env: run `npm run stack:up` first')
  const result = await seed({
    objects,
    concurrency,
    namespacePrefix: values['namespace-prefix'],
    kubeconfig,
    progress: true,
  })
  const rate = Math.round((objects / Math.max(result.ms, 1)) * 1000)
  console.log(
    `seed: ${objects} objects in ${result.namespaces.length} namespaces in ${result.ms} ms (${rate}/s)`,
    result.counts,
  )
}

// Without --clusters (or KMS_STACK_CLUSTERS) up keeps as many clusters as are running.
async function runUp(args: string[]) {
  const { values } = parseArgs({
    args,
    options: { clusters: { type: 'string' }, 'min-clusters': { type: 'string' } },
  })
  const clusters =
    values.clusters === undefined ? undefined : parseClusterCount(values.clusters, '--clusters')
  const min = values['min-clusters']
  await up({
    clusters,
    ...(min === undefined ? {} : { minClusters: parseClusterCount(min, '--min-clusters') }),
  })
}

async function main(): Promise<number> {
  const [command, ...rest] = process.argv.slice(2)
  switch (command) {
    case 'up':
      await runUp(rest)
      return 0
    case 'down':
      await down()
      // The tests' second stack goes too (test/stack/second-stack.ts).
      if (secondStackExists()) await runOnSecondStack(['down'])
      return 0
    case 'status':
      return (await status()) ? 0 : 1
    case 'seed':
      await runSeed(rest)
      return 0
    default:
      console.error(usage)
      return 2
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error)
    process.exit(1)
  },
)
