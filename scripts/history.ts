/**
 * `npm run history`: what object_history recorded (docs/history.md).
 *
 *   npm run history -- --resource apps/v1/deployments --namespace shop --name web --since 2h --diff
 *   npm run history -- --resource apps/v1/deployments --namespace shop --name web --as-of 2026-11-28T10:00:00Z
 *   npm run history -- --resource v1/configmaps --as-of 2026-11-28T10:00:00Z
 *
 * Connects with the functions' settings (MONGODB_URI or MONGODB_SECRET_ID, MONGODB_DB;
 * CLUSTER_NAME is the default --cluster), process environment over `.env`.
 * Exit code: 0 answered; 3 nothing recorded for what was asked; 1 failed (configuration,
 * connection); 64 bad arguments.
 */
import './history/quiet-logs.js'
import { getConfig } from '../lib/config.js'
import { ConfigError, messageOf } from '../lib/errors.js'
import { readEnvFile } from '../test/stack/env-file.js'
import {
  cliOptions,
  USAGE,
  UsageError,
  wantsHelp,
  type HistoryOptions,
} from './history/cli-options.js'
import { connectHistory } from './history/connect.js'
import { NothingRecorded, runHistory } from './history/run.js'

const argv = process.argv.slice(2)
if (wantsHelp(argv)) {
  process.stdout.write(`${USAGE}\n`)
  process.exit(0)
}

let options: HistoryOptions
try {
  options = cliOptions(argv)
} catch (error) {
  if (!(error instanceof UsageError)) throw error
  process.stderr.write(`history: ${error.message}\n\n${USAGE}\n`)
  process.exit(64)
}

if (options.stackEnv) Object.assign(process.env, readEnvFile() ?? {})

let close: (() => Promise<void>) | undefined
try {
  const config = getConfig()
  const connection = await connectHistory(config)
  close = connection.close
  const output = await runHistory(connection.db, options.cluster ?? config.clusterName, options)
  for (const line of output.stderr) process.stderr.write(`${line}\n`)
  for (const line of output.stdout) process.stdout.write(`${line}\n`)
} catch (error) {
  if (error instanceof NothingRecorded) {
    process.stderr.write(`history: ${error.message}\n`)
    process.exitCode = 3
  } else {
    const what = error instanceof ConfigError ? 'configuration' : 'failed'
    process.stderr.write(`history ${what}: ${messageOf(error)}\n`)
    process.exitCode = 1
  }
} finally {
  await close?.().catch(() => undefined)
  // With MONGODB_SECRET_ID, the secret cache's refresh timer would keep the process alive.
  process.exit()
}
