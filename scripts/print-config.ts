/**
 * `npm run config`: the effective configuration (redacted) as JSON, exit 0;
 * or every problem, one line each, exit 1.
 */
import { getConfig } from '../lib/config.js'
import { configSummary } from '../lib/config-summary.js'
import { ConfigError } from '../lib/errors.js'

try {
  process.stdout.write(`${JSON.stringify(configSummary(getConfig()), null, 2)}\n`)
} catch (error) {
  if (!(error instanceof ConfigError)) throw error
  process.stderr.write(`${error.message}\n`)
  process.exitCode = 1
}
